// pt-BR date pickers and remote look-ups (select2 with AJAX).
(function ($) {
  if ($.fn.datepicker && $.fn.datepicker.dates) {
    $.fn.datepicker.dates['pt-BR'] = {
      days: ['Domingo', 'Segunda', 'Terça', 'Quarta', 'Quinta', 'Sexta', 'Sábado'],
      daysShort: ['Dom', 'Seg', 'Ter', 'Qua', 'Qui', 'Sex', 'Sáb'],
      daysMin: ['Do', 'Se', 'Te', 'Qu', 'Qu', 'Se', 'Sa'],
      months: ['Janeiro', 'Fevereiro', 'Março', 'Abril', 'Maio', 'Junho', 'Julho', 'Agosto', 'Setembro',
        'Outubro', 'Novembro', 'Dezembro'],
      monthsShort: ['Jan', 'Fev', 'Mar', 'Abr', 'Mai', 'Jun', 'Jul', 'Ago', 'Set', 'Out', 'Nov', 'Dez'],
      today: 'Hoje', clear: 'Limpar', format: 'dd/mm/yyyy', titleFormat: 'MM yyyy', weekStart: 0
    };
    // the picker re-reads what is typed or pasted (it only listens to keys), so a pasted date is kept on blur
    $('.atende_date').datepicker({format: 'dd/mm/yyyy', language: 'pt-BR', autoclose: true})
      .on('input', function () { $(this).datepicker('update'); });
    $('.atende_datetime').each(function () {
      var input = $(this);
      input.datepicker({format: 'dd/mm/yyyy', language: 'pt-BR', autoclose: true, forceParse: false})
        .on('changeDate', function (e) {
          var time = (input.data('time') || '00:00');
          input.val(input.val().substring(0, 10) + ' ' + time);
        });
      var current = input.val();
      if (current.length > 10) { input.data('time', current.substring(11, 16)); }
    });
  }
  var language = {
    inputTooShort: function () { return 'Digite ao menos 2 caracteres'; },
    noResults: function () { return 'Nada encontrado'; },
    searching: function () { return 'Buscando…'; },
    errorLoading: function () { return 'Não foi possível carregar os resultados'; }
  };
  $('option[value="__None"]').text('—');
  $('select.my_select2').trigger('change.select2');
  $('.atende_lookup').each(function () {
    var select = $(this);
    select.select2({
      allowClear: true,
      theme: 'bootstrap',
      placeholder: select.data('placeholder'),
      minimumInputLength: select.data('min-length') !== undefined ? select.data('min-length') : 2,
      language: language,
      ajax: {
        url: select.data('url'),
        dataType: 'json',
        delay: 250,
        data: function (params) {
          var query = {q: params.term};
          var customer = $('#customer').val();
          if (customer && select.attr('id') !== 'customer') { query.customer = customer; }
          if ($('input[data-for="' + select.attr('id') + '"]').is(':checked')) { query.cancelados = '1'; }
          return query;
        },
        processResults: function (data) { return {results: data.results}; }
      }
    });
  });
  $('#customer').on('change', function () {
    var contract = $('#contract');
    if (contract.length) { contract.val(null).trigger('change'); }
  });
})(jQuery);

// Ticket form: fields the chosen subject requires become required at once; subject defaults fill in.
(function ($) {
  if (!window.ATENDE_SUBJECT_URL) { return; }
  var fields = {contract: 'requires_contract', channel: 'requires_channel', sub_status: 'requires_sub_status',
    closing_reason: 'requires_closing_reason'};
  function row(name) { return $('#' + name).closest('tr'); }
  function mark(name, required) {
    var label = row(name).find('td').first();
    label.find('.atende-required').remove();
    row(name).toggleClass('warning', required);
    $('#' + name).attr('aria-required', required ? 'true' : null);
    if (required) { label.append(' <strong class="atende-required" style="color: red" title="obrigatório">*</strong>'); }
  }
  function fill(name, value) {
    var select = $('#' + name);
    if (value && (!select.val() || select.val() === '__None')) { select.val(String(value)).trigger('change'); }
  }
  function apply(subjectId) {
    if (!subjectId || subjectId === '__None') {
      $.each(fields, function (name) { mark(name, false); });
      return;
    }
    $.getJSON(window.ATENDE_SUBJECT_URL.replace(/0$/, subjectId), function (rules) {
      $.each(fields, function (name, flag) { mark(name, !!rules[flag]); });
      fill('department', rules.department);
      fill('priority', rules.priority);
    });
  }
  $('#subject').on('change', function () { apply($(this).val()); });
  apply($('#subject').val());

  var timer = null;
  $('#kb-search').on('input', function () {
    var text = $(this).val();
    clearTimeout(timer);
    timer = setTimeout(function () {
      $.getJSON(window.ATENDE_KB_URL, {q: text, subject: $('#subject').val()}, function (data) {
        var box = $('#kb-results').empty();
        if (!data.results.length) { box.append($('<p class="text-muted">').text('Nenhum artigo encontrado.')); }
        $.each(data.results, function (i, article) {
          var item = $('<div class="well well-sm kb-article">');
          item.append($('<strong>').text(article.title));
          if (article.guidance) { item.append($('<p class="text-info">').text(article.guidance)); }
          item.append($('<p>').text(article.solution));
          var form = $('<form method="post">').attr('action', window.ATENDE_KB_USE_URL.replace(/0$/, article.id));
          form.append($('<input type="hidden" name="csrf_token">').val(window.ATENDE_CSRF));
          form.append($('<button type="submit" class="btn btn-xs btn-default">').text('Usar neste atendimento'));
          item.append(form);
          box.append(item);
        });
      });
    }, 300);
  });
})(jQuery);

// A field marked "atende-submit-on-change" submits its form ("Exibir cancelados" in the agent's search).
(function ($) {
  $(document).on('change', '.atende-submit-on-change', function () { this.form.submit(); });
})(jQuery);

// Tabs: a page opens on its first tab, or on the one its address names (#messages after a message).
(function ($) {
  var hash = window.location.hash;
  if (hash && /^#[\w-]+$/.test(hash)) {
    $('.nav-tabs a[data-toggle="tab"][href="' + hash + '"]').tab('show');
  }
})(jQuery);

// A list reached after Salvar highlights the saved row (?salvo=<id>).
(function ($) {
  var saved = new URLSearchParams(window.location.search).get('salvo');
  if (!saved || !/^\d+$/.test(saved)) { return; }
  var link = $('table a[href$="/show/' + saved + '"], table a[href$="/edit/' + saved + '"]').first();
  var row = link.closest('tr');
  if (row.length) {
    row.addClass('success atende-saved').attr('id', 'saved-row');
    row[0].scrollIntoView({block: 'center'});
  }
})(jQuery);

// F2 anywhere in the back office: "Novo atendimento" (the agent's search).
(function () {
  var url = document.body.getAttribute('data-new-ticket-url');
  if (!url) { return; }
  document.addEventListener('keydown', function (event) {
    if (event.key === 'F2' && !event.altKey && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      window.location.href = url;
    }
  });
})();

// A draft saves itself while the agent types (debounced) and when the page is left (R2).
(function ($) {
  var form = document.getElementById('model_form');
  var url = form && form.getAttribute('data-autosave-url');
  if (!url) { return; }
  var status = $('#autosave-status');
  var timer = null, inFlight = null, dirty = false, submitting = false;
  function payload() { return new FormData(form); }
  function save() {
    timer = null;
    if (!dirty || inFlight) { return inFlight; }
    dirty = false;
    status.text('Salvando rascunho…');
    inFlight = fetch(url, {method: 'POST', body: payload(), credentials: 'same-origin',
                           headers: {'X-Requested-With': 'XMLHttpRequest'}})
      .then(function (response) {
        return response.json().then(function (body) { return {ok: response.ok, body: body}; });
      })
      .then(function (result) {
        if (result.ok) {
          $('#expected_version').val(result.body.version);
          status.text(result.body.message);
        } else {
          status.text(result.body.message || 'Rascunho não salvo.');
        }
      })
      .catch(function () { dirty = true; status.text('Rascunho não salvo: sem conexão com o servidor.'); })
      .then(function () { inFlight = null; if (dirty && !submitting) { schedule(); } });
    return inFlight;
  }
  function schedule() { clearTimeout(timer); timer = setTimeout(save, 1200); }
  function changed() { dirty = true; schedule(); }
  $(form).on('input change', ':input', changed);
  form.addEventListener('submit', function (event) {
    if (submitting) { return; }
    clearTimeout(timer);
    if (inFlight) {
      event.preventDefault();
      inFlight.then(function () { submitting = true; form.submit(); });
      return;
    }
    submitting = true;
  });
  function leave() {
    if (dirty && !submitting && navigator.sendBeacon) {
      dirty = false;
      clearTimeout(timer);
      navigator.sendBeacon(url, payload());
    }
  }
  window.addEventListener('pagehide', leave);
  document.addEventListener('visibilitychange', function () { if (document.visibilityState === 'hidden') { leave(); } });
  if (form.getAttribute('data-refused')) { changed(); }
})(jQuery);
