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
    $('.atende_date').datepicker({format: 'dd/mm/yyyy', language: 'pt-BR', autoclose: true});
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
  $('.atende_lookup').each(function () {
    var select = $(this);
    select.select2({
      allowClear: true,
      placeholder: select.data('placeholder'),
      minimumInputLength: 2,
      ajax: {
        url: select.data('url'),
        dataType: 'json',
        delay: 250,
        data: function (term) {
          var params = {q: term};
          var customer = $('#customer').val();
          if (customer) { params.customer = customer; }
          return params;
        },
        results: function (data) { return {results: data.results}; }
      },
      initSelection: function (element, callback) {
        var option = element.find('option:selected');
        if (option.val()) { callback({id: option.val(), text: option.text()}); }
      },
      formatInputTooShort: function () { return 'Digite ao menos 2 caracteres'; },
      formatNoMatches: function () { return 'Nada encontrado'; },
      formatSearching: function () { return 'Buscando…'; }
    });
  });
})(jQuery);
