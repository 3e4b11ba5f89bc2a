/*
 * The numeric question type for player.js: a number typed with a decimal point or a
 * comma, right from spec.low to spec.high (scorm.py works the bounds out exactly). Its
 * state code is the number as typed without spaces, with a decimal point ("2.5", "-3").
 */
(function () {
  "use strict";

  var NUMBER = /^([+-]?)(\d*)(?:\.(\d*))?$/;
  var NOT_A_NUMBER = "That is not a number: type digits, with a point or a comma " +
    "before any decimals (such as 2.5 or 2,5).";

  /** Typed text as a plain decimal ("2,5 " → "2.5", ".5" → "0.5"); "" if it is none. */
  function normalise(text) {
    var found = NUMBER.exec(text.replace(/\s/g, "").replace(/\u2212/g, "-").replace(",", "."));
    if (!found || !(found[2] || found[3])) {
      return "";
    }
    return (found[1] === "-" ? "-" : "") + (found[2] || "0") + (found[3] ? "." + found[3] : "");
  }

  var types = window.QtiQuestions = window.QtiQuestions || {};

  types.numeric = {
    emptyMessage: "Type a number first.",
    setup: function (question) {
      var input = question.input = question.article.querySelector("input[inputmode=decimal]");
      // Registered before the player's own submit handler: text that is not a number
      // is refused here, with its own message, before anything is scored or recorded.
      question.form.addEventListener("submit", function (event) {
        if (input.disabled || !input.value.trim() || normalise(input.value)) {
          return;
        }
        event.preventDefault();
        event.stopImmediatePropagation();
        question.error.textContent = NOT_A_NUMBER;
        question.error.hidden = false;
        input.setAttribute("aria-invalid", "true");
        input.focus();
      });
      input.addEventListener("input", function () {
        input.removeAttribute("aria-invalid");
      });
      // The message stays until the next submit: hidden when the field loses focus
      // (the player's change handler), it would move Submit from under the pointer.
      input.addEventListener("change", function (event) {
        event.stopPropagation();
      });
    },
    focusTarget: function (question) {
      return question.input;
    },
    read: function (question) {
      return normalise(question.input.value);
    },
    accepts: function (question, code) {
      return code.length <= question.spec.maxLength && normalise(code) === code;
    },
    points: function (question, code) {
      var value = parseFloat(code);
      var spec = question.spec;
      return value >= spec.low && value <= spec.high ? spec.points : 0;
    },
    studentResponse: function (question, code) {
      return code;
    },
    chosenKeys: function () {
      return [];
    },
    /** Lock the field with the number given, marked accepted or not. */
    show: function (question, code, correct) {
      question.input.value = code;
      question.input.disabled = true;
      question.input.removeAttribute("aria-invalid");
      var mark = document.getElementById(question.article.id + "-number-mark");
      mark.textContent = correct ? "✓ Accepted" : "✗ Not accepted";
      mark.className = "text-verdict " + (correct ? "is-correct" : "is-wrong");
      mark.hidden = false;
    }
  };
})();
