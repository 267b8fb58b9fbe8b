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
