// The invitation page: the token travels after '#', which the browser never sends to the
// server. Put it in the form, then take it out of the address bar (and of the history).
(function () {
  var field = document.getElementById("invitation-token");
  if (!field) {
    return;
  }
  var token = window.location.hash.slice(1);
  if (token) {
    field.value = token;
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  if (field.value) {
    document.getElementById("invitation-token-row").hidden = true;
  }
})();
