/*
 * The text question type for player.js: a typed answer, compared trimmed, NFC and in
 * lower case with the accepted answers (scorm.py prepares them the same way). Its state
 * code is the typed text.
 */
(function () {
  "use strict";

  function normaliseAnswer(text) {
    var value = text.trim();
    if (value.normalize) {
      value = value.normalize("NFC");
    }
    return value.toLowerCase();
  }

  /** Control characters are dropped so that saved text never grows past twice its length. */
  function cleanTypedText(text, maxLength) {
    return text.replace(/[\u0000-\u001f\u007f]/g, "").trim().slice(0, maxLength);
  }

  var types = window.QtiQuestions = window.QtiQuestions || {};

  types.text = {
    emptyMessage: "Type an answer first.",
    setup: function (question) {
      question.textInput = question.article.querySelector("input[type=text]");
    },
    focusTarget: function (question) {
      return question.textInput;
    },
    read: function (question) {
      return cleanTypedText(question.textInput.value, question.spec.maxLength);
    },
    accepts: function (question, code) {
      var maxLength = question.spec.maxLength;
      return code.length <= maxLength && code === cleanTypedText(code, maxLength);
    },
    points: function (question, code) {
      var spec = question.spec;
      return spec.accepted.indexOf(normaliseAnswer(code)) >= 0 ? spec.points : 0;
    },
    studentResponse: function (question, code) {
      return code;
    },
    chosenKeys: function () {
      return [];
    },
    /** Lock the field with the answer given, marked accepted or not. */
    show: function (question, code, correct) {
      question.textInput.value = code;
      question.textInput.disabled = true;
      var mark = document.getElementById(question.article.id + "-text-mark");
      mark.textContent = correct ? "✓ Accepted" : "✗ Not accepted";
      mark.className = "text-verdict " + (correct ? "is-correct" : "is-wrong");
      mark.hidden = false;
    }
  };
})();
