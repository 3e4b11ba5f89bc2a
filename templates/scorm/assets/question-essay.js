/*
 * The essay question type for player.js: a written answer in a text box with a count
 * of the characters left, never scored. Its state code is the text, line breaks kept;
 * SCORM's student_response gets it on one line, at most 255 characters (CMIString255).
 */
(function () {
  "use strict";

  var MAX_RESPONSE = 255;

  /** Line breaks become "\n" and other control characters go, so that saved text never
   * grows past twice its length in JSON. */
  function cleanEssay(text, maxLength) {
    return text.replace(/\r\n?/g, "\n").replace(/[\u0000-\u0009\u000b-\u001f\u007f]/g, "")
      .trim().slice(0, maxLength);
  }

  function showCount(question) {
    var left = question.spec.maxLength - question.textInput.value.length;
    question.countElement.textContent = left + " of " + question.spec.maxLength +
      " characters left.";
  }

  var types = window.QtiQuestions = window.QtiQuestions || {};

  types.essay = {
    scored: false,
    emptyMessage: "Write an answer first.",
    setup: function (question) {
      question.textInput = question.article.querySelector("textarea");
      question.countElement = document.getElementById(question.article.id + "-count");
      question.textInput.addEventListener("input", function () {
        showCount(question);
      });
      showCount(question);
    },
    focusTarget: function (question) {
      return question.textInput;
    },
    read: function (question) {
      return cleanEssay(question.textInput.value, question.spec.maxLength);
    },
    accepts: function (question, code) {
      var maxLength = question.spec.maxLength;
      return code.length <= maxLength && code === cleanEssay(code, maxLength);
    },
    points: function () {
      return 0;
    },
    studentResponse: function (question, code) {
      return code.replace(/\s+/g, " ").slice(0, MAX_RESPONSE);
    },
    chosenKeys: function () {
      return [];
    },
    /** Lock the box with the answer given. */
    show: function (question, code) {
      question.textInput.value = code;
      question.textInput.disabled = true;
      showCount(question);
    }
  };
})();
