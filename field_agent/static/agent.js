// Keyboard-driven temperature grid: Enter moves to the next reading (Tab works as usual),
// Ctrl+Enter saves; fevers and impossible readings are marked while typing.
// The page works without this file: then Enter saves the grid.
(function () {
  "use strict";
  var FEVER = 37.3, LOW = 34, HIGH = 43;

  function cells(form) { return Array.prototype.slice.call(form.querySelectorAll("input.grid-cell")); }

  document.addEventListener("keydown", function (ev) {
    var el = ev.target;
    if (ev.key !== "Enter" || !el.classList || !el.classList.contains("grid-cell")) return;
    var form = el.form;
    ev.preventDefault();
    if (ev.ctrlKey || ev.metaKey) { // Ctrl+Enter saves: browsers do not submit on it
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
      return;
    }
    var list = cells(form), i = list.indexOf(el);
    var next = ev.shiftKey ? list[i - 1] : list[i + 1];
    if (next) { next.focus(); next.select(); }
    else { var save = form.querySelector("button.grid-save"); if (save) save.focus(); }
  });

  document.addEventListener("input", function (ev) {
    var el = ev.target;
    if (!el.classList || !el.classList.contains("grid-cell")) return;
    var text = el.value.trim().replace(",", ".").replace(/[°℃C]+$/, "");
    var value = parseFloat(text);
    var bad = text !== "" && (!/^\d+(\.\d{1,2})?$/.test(text) || value < LOW || value > HIGH);
    el.classList.toggle("fever", !bad && value >= FEVER);
    if (bad) el.setAttribute("aria-invalid", "true"); else el.removeAttribute("aria-invalid");
  });
})();

// The status bar polls the server; a poll counts as activity (for the idle lock) only
// when the volunteer typed or clicked since the previous one.
(function () {
  "use strict";
  var active = false;
  ["keydown", "pointerdown"].forEach(function (name) {
    document.addEventListener(name, function () { active = true; }, true);
  });
  document.addEventListener("htmx:configRequest", function (ev) {
    if (active && ev.detail.elt && ev.detail.elt.id === "syncbar") {
      ev.detail.headers["X-Volunteer-Active"] = "1";
      active = false;
    }
  });
})();
