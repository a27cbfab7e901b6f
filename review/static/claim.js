// Claim page: tie each field's table row to its box on the page image, and shape the decision form.
(function () {
  "use strict";

  function clear() {
    document.querySelectorAll(".hl").forEach(function (el) { el.classList.remove("hl"); });
  }

  function highlight(keys, scroll) {
    clear();
    var first = null;
    keys.forEach(function (key) {
      var row = document.querySelector('.field-row[data-field="' + key + '"]');
      var box = document.getElementById("box-" + key);
      if (row) { row.classList.add("hl"); }
      if (box) {
        box.classList.add("hl");
        box.parentNode.appendChild(box); // draw on top of the other boxes
        first = first || box;
      }
    });
    if (first && scroll) {
      first.closest("figure").scrollIntoView({ behavior: "smooth", block: "center" });
    }
  }

  document.querySelectorAll(".field-row").forEach(function (row) {
    function pick(ev) {
      if (ev.target.closest("details, form, a, button, input")) { return; }
      highlight([row.dataset.field], true);
    }
    row.addEventListener("click", pick);
    row.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { pick(ev); } });
  });

  document.querySelectorAll("svg.page polygon.field, svg.page polygon.item").forEach(function (box) {
    box.addEventListener("click", function () {
      highlight([box.dataset.field], false);
      var row = document.querySelector('.field-row[data-field="' + box.dataset.field + '"]');
      if (row) {
        var items = row.closest("details");
        if (items) { items.open = true; }
        row.scrollIntoView({ behavior: "smooth", block: "nearest" });
      }
    });
  });

  document.querySelectorAll(".check[data-fields]").forEach(function (check) {
    var keys = check.dataset.fields.trim().split(/\s+/).filter(Boolean);
    if (!keys.length) { return; }
    check.classList.add("clickable");
    check.addEventListener("click", function () { highlight(keys, true); });
  });

  var form = document.querySelector("form.decide");
  if (form) {
    var limit = form.dataset.limit === "" ? Infinity : parseFloat(form.dataset.limit);  // "": no limit
    var always = form.dataset.always === "yes";  // nothing to check the amount against
    var amount = form.querySelector('input[name="amount"]');
    var hint = form.querySelector(".four-eyes");
    function shape() {
      var action = form.querySelector('input[name="action"]:checked').value;
      var pays = action === "approve" || action === "partial";
      form.querySelector(".for-pay").hidden = !pays;
      form.querySelector(".for-reason").hidden = action === "approve" || action === "request_info";
      form.querySelector(".for-info").hidden = action !== "request_info";
      form.querySelector("textarea[name=reason]").required = action === "deny" || action === "partial";
      amount.required = pays;
      var typed = parseFloat(amount.value.replace(/,/g, ""));
      hint.hidden = !(pays && (always || typed > limit));
    }
    form.querySelectorAll('input[name="action"]').forEach(function (r) { r.addEventListener("change", shape); });
    amount.addEventListener("input", shape);
    form.addEventListener("submit", function (ev) {
      var action = form.querySelector('input[name="action"]:checked').value;
      if (action === "request_info" && !form.querySelector('input[name="missing_documents"]:checked')) {
        ev.preventDefault();
        alert("Choose the missing documents.");
      }
    });
    shape();
  }
})();
