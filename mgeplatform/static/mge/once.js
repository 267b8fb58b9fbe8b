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
