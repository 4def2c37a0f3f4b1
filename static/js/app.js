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

// The header's menu (<details class="site-menu">) is always open on a wide screen and folded on a phone; the CSS
// shows it on a wide screen already, this keeps its open state (what assistive technology reads) the same.
(function () {
  var menu = document.querySelector("details.site-menu");
  if (!menu || !window.matchMedia) {
    return;
  }
  var wide = window.matchMedia("(min-width: 761px)");
  function follow() {
    menu.open = wide.matches;
  }
  follow();
  if (wide.addEventListener) {
    wide.addEventListener("change", follow);
  }
})();
