// A double click sends a form once: disable its buttons after the first submit,
// keeping the clicked button's name/value in the request.
document.querySelectorAll("form.once").forEach(function (form) {
  form.addEventListener("submit", function (event) {
    var clicked = event.submitter;
    if (clicked && clicked.name) {
      var hidden = document.createElement("input");
      hidden.type = "hidden"; hidden.name = clicked.name; hidden.value = clicked.value;
      form.appendChild(hidden);
    }
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
  });
});

// Text typed into a field with data-draft-key survives a reload or a dropped
// connection: it is kept in this browser until the page moves on.
document.querySelectorAll("[data-draft-key]").forEach(function (field) {
  var key = field.getAttribute("data-draft-key");
  try {
    if (!field.value && localStorage.getItem(key)) { field.value = localStorage.getItem(key); }
    field.addEventListener("input", function () { localStorage.setItem(key, field.value); });
  } catch (e) { /* storage disabled: nothing to keep */ }
});

// Choices in a form with data-draft-choices survive a reload in this tab;
// the server's own answers (already checked) win over the kept ones.
document.querySelectorAll("form[data-draft-choices]").forEach(function (form) {
  var key = form.getAttribute("data-draft-choices");
  var kept = {};
  try { kept = JSON.parse(sessionStorage.getItem(key) || "{}"); } catch (e) { kept = {}; }
  Object.keys(kept).forEach(function (name) {
    if (form.querySelector('input[type="radio"][name="' + CSS.escape(name) + '"]:checked')) { return; }
    var radio = form.querySelector('input[type="radio"][name="' + CSS.escape(name) + '"][value="' + CSS.escape(kept[name]) + '"]');
    if (radio) { radio.checked = true; }
  });
  form.addEventListener("change", function (event) {
    if (event.target.type !== "radio") { return; }
    kept[event.target.name] = event.target.value;
    try { sessionStorage.setItem(key, JSON.stringify(kept)); } catch (e) { /* storage disabled */ }
  });
});
