/*
 * A small LMS for the player's tests: scorm-again's Scorm12API on window.API, a SCO in
 * an iframe, and a journal of every API call the SCO makes with the LMSGetLastError
 * that followed it. Driven from Playwright through window.testLms.
 */
(function () {
  "use strict";

  var METHODS = [
    "LMSInitialize", "LMSFinish", "LMSGetValue", "LMSSetValue", "LMSCommit",
    "LMSGetLastError", "LMSGetErrorString", "LMSGetDiagnostic"
  ];

  var state = { api: null, calls: [], frame: null, refuse: {}, forcedError: null };

  /** A facade in front of the real API that records each call and its error code. */
  function facade(api) {
    var front = {};
    METHODS.forEach(function (method) {
      front[method] = function () {
        var args = Array.prototype.slice.call(arguments).map(String);
        var result;
        var error;
        if (method === "LMSGetLastError" && state.forcedError) {
          result = state.forcedError;
          error = state.forcedError;
        } else if (method === "LMSGetErrorString" && state.forcedError) {
          result = "Refused by the test LMS";
          error = state.forcedError;
        } else if (method === "LMSSetValue" && state.refuse[args[0]]) {
          state.forcedError = state.refuse[args[0]];
          result = "false";
          error = state.forcedError;
        } else {
          if (method !== "LMSGetLastError" && method !== "LMSGetErrorString") {
            state.forcedError = null;
          }
          result = String(api[method].apply(api, arguments));
          error = String(api.LMSGetLastError());
        }
        state.calls.push({ method: method, args: args, result: String(result), error: error });
        return result;
      };
    });
    return front;
  }

  window.testLms = {
    /**
     * Start a fresh API with `initial` cmi data (scorm-again's JSON form) and load the
     * SCO. `refuse` maps elements to an error code the LMS answers when they are set.
     */
    launch: function (scoUrl, initial, refuse) {
      if (state.frame) {
        state.frame.remove();
      }
      state.api = new window.Scorm12API({ logLevel: 5, autocommit: false });
      if (initial) {
        state.api.loadFromJSON(initial);
      }
      state.calls = [];
      state.refuse = refuse || {};
      state.forcedError = null;
      window.API = facade(state.api);
      var frame = document.createElement("iframe");
      frame.title = "Course content";
      frame.src = scoUrl;
      document.body.appendChild(frame);
      state.frame = frame;
      return new Promise(function (resolve) {
        frame.addEventListener("load", function () {
          resolve(true);
        });
      });
    },
    /** Take the SCO away, as an LMS does when the learner leaves the activity. */
    exit: function () {
      if (state.frame) {
        state.frame.remove();
        state.frame = null;
      }
    },
    calls: function () {
      return state.calls.slice();
    },
    cmi: function () {
      return JSON.parse(JSON.stringify(state.api.renderCMIToJSONObject())).cmi;
    },
    /** Let the whole SCO page show in one full-page screenshot. */
    fitFrame: function () {
      var page = state.frame.contentDocument.documentElement;
      state.frame.style.flex = "none";
      state.frame.style.height = page.scrollHeight + "px";
    },
    unfitFrame: function () {
      state.frame.style.flex = "";
      state.frame.style.height = "";
    }
  };
})();
