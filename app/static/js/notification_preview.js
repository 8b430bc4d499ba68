/* Message templates: render the typed subject and text on sample data (MessageTemplateView.preview). */
(function () {
  "use strict";
  var button = document.getElementById("template-preview-button");
  if (!button) { return; }
  var form = document.querySelector("form#model_form") || document.querySelector("form[method=post]");
  var error = document.getElementById("template-preview-error");
  var subject = document.getElementById("template-preview-subject");
  var body = document.getElementById("template-preview-body");

  function preview() {
    var data = new FormData(form);
    fetch(button.getAttribute("data-url"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: {"X-CSRFToken": data.get("csrf_token") || "", "Accept": "application/json"}
    }).then(function (response) { return response.json(); }).then(function (answer) {
      if (answer.ok) {
        error.style.display = "none";
        subject.textContent = answer.subject || "";
        body.textContent = answer.body || "";
      } else {
        error.textContent = answer.message;
        error.style.display = "block";
        subject.textContent = "";
        body.textContent = "";
      }
    }).catch(function () {
      error.textContent = "Não foi possível gerar a pré-visualização.";
      error.style.display = "block";
    });
  }

  button.addEventListener("click", preview);
  preview();
}());
