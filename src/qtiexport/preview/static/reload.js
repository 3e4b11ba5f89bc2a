/*
 * Live reload for every preview page. The page knows the generation of the course it
 * shows (<html data-generation>); /_preview/wait answers once the server has a newer one
 * (or after a while, to keep the connection short), and the page reloads then. A page
 * in a hidden tab stops asking, so that open tabs do not use up the browser's
 * connections, and asks again as soon as it is shown.
 */
(function () {
  "use strict";

  var RETRY_MS = 1000;
  var generation = document.documentElement.getAttribute("data-generation");
  var status = document.getElementById("reload-status");
  var controller = null;

  function say(text) {
    if (status) {
      status.textContent = text;
    }
  }

  function poll() {
    if (controller || document.visibilityState === "hidden") {
      return;
    }
    var mine = new AbortController();
    controller = mine;
    fetch("/_preview/wait?since=" + encodeURIComponent(generation), {
      cache: "no-store",
      signal: mine.signal
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (answer) {
        if (controller === mine) {
          controller = null;
        }
        say("");
        if (String(answer.generation) !== generation) {
          say("Reloading…");
          window.location.reload();
          return;
        }
        poll();
      })
      .catch(function (error) {
        if (mine.signal.aborted) {
          return;
        }
        if (controller === mine) {
          controller = null;
        }
        say("The preview server is not answering: is `qtiexport preview` still running?");
        window.setTimeout(poll, RETRY_MS);
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      if (controller) {
        controller.abort();
        controller = null;
      }
    } else {
      poll();
    }
  });

  poll();
})();
