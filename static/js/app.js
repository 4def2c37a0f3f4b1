// Ask first where a form says data-confirm. Disable a form's buttons once it is submitted,
// so a double click sends one request.
// The server stays the guarantee (the services approve exactly once); this only spares the second request.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    return;
  }
  if (!form.matches("form[data-once]")) {
    return;
  }
  if (form.dataset.submitted === "1") {
    event.preventDefault();
    return;
  }
  form.dataset.submitted = "1";
  // Disable after the submit has started so the clicked button's name and value are still sent.
  window.setTimeout(function () {
    form.querySelectorAll("button, input[type=submit]").forEach(function (button) {
      button.disabled = true;
    });
  }, 0);
});
