// Enhances the quick exit (the link works without this): the page leaves the history, and Escape leaves too.
(function () {
  'use strict';
  var link = document.getElementById('quick-exit');
  if (!link) return;
  var target = link.getAttribute('data-quick-exit') || link.href;
  function leave(event) {
    if (event) event.preventDefault();
    // Hide the page at once: the next site may take a moment to load on a slow phone.
    document.body.hidden = true;
    window.location.replace(target);
  }
  link.addEventListener('click', leave);
  document.addEventListener('keydown', function (event) {
    if (event.key === 'Escape' || event.key === 'Esc') leave(event);
  });
})();
