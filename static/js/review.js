// Review page: highlight a difference of two levels or more from the self rating as the
// supervisor clicks. Optional: the server marks the same rows when the page is rendered.
(function () {
  "use strict";
  var form = document.getElementById("review-form");
  if (!form) return;
  var GAP = parseInt(form.dataset.gap, 10) || 2;

  function barClass(diff) {
    if (diff === null) return "diff-none";
    if (diff === 0) return "diff-0";
    return "diff-" + (diff > 0 ? "pos" : "neg") + "-" + Math.abs(diff);
  }

  function update(article, level) {
    var self = parseInt(article.dataset.selfLevel, 10);
    var diff = isNaN(self) || isNaN(level) ? null : level - self;
    var gap = diff !== null && Math.abs(diff) >= GAP;
    article.classList.toggle("review-gap", gap);
    var note = article.querySelector(".review-required-note");
    if (note) note.hidden = !gap;
    var comment = article.querySelector("textarea");
    if (comment) {
      if (gap) comment.setAttribute("aria-required", "true");
      else comment.removeAttribute("aria-required");
    }
    var row = document.getElementById("compare-" + article.dataset.code);
    if (!row) return;
    row.classList.toggle("review-gap", gap);
    row.querySelector(".compare-supervisor").textContent = isNaN(level) ? "—" : String(level);
    row.querySelector(".compare-diff").textContent =
      diff === null ? "—" : (diff > 0 ? "+" : "") + String(diff);
    row.querySelector(".compare-bar span").className = barClass(diff);
  }

  form.addEventListener("change", function (event) {
    var input = event.target;
    if (input.type !== "radio" || input.name.indexOf("level-") !== 0) return;
    var article = input.closest(".review-category");
    if (article) update(article, parseInt(input.value, 10));
  });
})();
