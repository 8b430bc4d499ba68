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
