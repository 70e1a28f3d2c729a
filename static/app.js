// Userdesk: progressive enhancement only; every page works without this file.
// Moves the keyboard focus to the first field that has an error message.
(function () {
  "use strict";
  var field = document.querySelector("[aria-invalid=true]");
  if (field) {
    field.focus();
  }
})();
