// Shows the readable form of the chosen crontab under the field (django-celery-beat admin),
// moved out of an inline script so the strict Content-Security-Policy can stay strict.
(function () {
  "use strict";
  var $ = window.django && window.django.jQuery;
  var self = document.getElementById("periodic-task-overrides");
  var data = document.getElementById("readable-crontabs");
  if (!$ || !self || !data) { return; }
  var readable = JSON.parse(data.textContent);
  var original = self.dataset.help || "";
  $(".field-crontab_translation").hide();
  $(".field-crontab").change(function () {
    var help = $(".field-crontab .help");
    help.text(original);
    help.append(document.createElement("br"));
    help.append(document.createTextNode("Translation: " + (readable[$("#id_crontab").val()] || "")));
  });
})();
