// Criteria lists: multi-selects, row selection, "select everything the filter matches", mass-action buttons.
(function ($) {
  $('select.atende-multi').each(function () {
    $(this).select2({theme: 'bootstrap', width: '100%', placeholder: $(this).data('placeholder'), allowClear: true});
  });
  // empty fields are left out of the URL, except the dates (an empty date means "any date")
  $('#filter-form').on('submit', function () {
    $(this).find('input, select').each(function () {
      var field = $(this);
      var value = field.val();
      var empty = value === null || value === '' || (Array.isArray(value) && value.length === 0);
      if (empty && !field.hasClass('atende_date')) { field.prop('disabled', true); }
    });
  });
  // "vencendo"/"vencido" of the legal deadline (R24) are tickets registered days ago: the opening period of the
  // list (the last 7 days by default) would hide every one of them, so choosing either clears the period
  $('#flt-legal_due').on('change', function () {
    if (['soon', 'overdue'].indexOf($(this).val()) >= 0) { $('#flt-date_from, #flt-date_to').val(''); }
  });
  var form = $('#mass-form');
  function refresh() {
    var checked = form.find('input.row-check:checked').length;
    var all = $('#select-all-input').val() !== '';
    form.find('.mass-action').prop('disabled', checked === 0 && !all);
    var pageAll = checked > 0 && checked === form.find('input.row-check').length;
    $('#select-all-banner').toggleClass('hidden', !pageAll);
    if (!pageAll) { $('#select-all-input').val(''); $('#select-all-done').addClass('hidden'); $('#select-all-matching').removeClass('hidden'); }
  }
  form.on('change', 'input.row-check', refresh);
  $('#check-all').on('change', function () {
    form.find('input.row-check').prop('checked', this.checked);
    refresh();
  });
  $('#select-all-matching').on('click', function (event) {
    event.preventDefault();
    $('#select-all-input').val($(this).data('query') || ' ');
    $(this).addClass('hidden');
    $('#select-all-done').removeClass('hidden');
    refresh();
  });
  refresh();
})(jQuery);
