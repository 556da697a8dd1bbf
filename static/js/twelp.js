// Reply counter: X's weighted length (twitter-text v3) of the text WITH the credit,
// exactly as the server counts it. Send is disabled past 280.
(function () {
  "use strict";
  var LIMIT = 280;

  function update(output) {
    var box = document.getElementById(output.dataset.counterFor);
    if (!box) return;
    var parsed = window.twttr.parseTweet(box.value.trim() + output.dataset.credit);
    var left = LIMIT - parsed.weightedLength;
    output.textContent = left + " left";
    output.classList.toggle("over", left < 0);
    var send = box.form && box.form.querySelector("button[type=submit]");
    if (send) send.disabled = left < 0 || box.value.trim() === "";
  }

  function wire(root) {
    root.querySelectorAll("output[data-counter-for]").forEach(function (output) {
      var box = document.getElementById(output.dataset.counterFor);
      if (!box || box.dataset.wired) return;
      box.dataset.wired = "1";
      box.addEventListener("input", function () { update(output); });
      update(output);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { wire(document); });
  document.addEventListener("htmx:afterSettle", function (event) { wire(event.target); });
})();
