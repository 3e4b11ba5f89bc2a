/*
 * The text question type for player.js: a typed answer, right when it is an accepted
 * answer once letter case, white space around and between the words, and punctuation at
 * the end are set aside. normaliseAnswer is the rule of qtiexport/questions/text.py
 * (`normalise_answer`, which prepares spec.accepted, and `answer_pattern`, the QTI
 * package's patternMatch); tests/test_question_text_matching.py checks that the three
 * agree. Its state code is the typed text.
 */
(function () {
  "use strict";

  // White space is what \s and trim() know: text.py's WHITESPACE, and vertical tab and
  // form feed, which cleanTypedText has already dropped.
  var LEADING_SPACE = /^\s+/;
  var TRAILING_SPACE_AND_PUNCTUATION = /[\s.,;:!?\u2026]+$/;
  var SPACES = /\s+/g;
  var CODE_POINT = /[\ud800-\udbff][\udc00-\udfff]|[\s\S]/g;
  var APOSTROPHES = { "\u2019": "'" };

  function isOneCharacter(text) {
    return text.match(CODE_POINT).length === 1;
  }

  /**
   * One character as compared: the lower case of its upper case, each step only where it
   * gives one character (ß stays ß); ’ as '. toUpperCase and toLowerCase, not their
   * toLocale… forms: the same in every language.
   */
  function foldCharacter(character) {
    if (APOSTROPHES.hasOwnProperty(character)) {
      return APOSTROPHES[character];
    }
    var upper = character.toUpperCase();
    var folded = isOneCharacter(upper) ? upper : character;
    var lower = folded.toLowerCase();
    return isOneCharacter(lower) ? lower : folded;
  }

  function normaliseAnswer(text) {
    var value = text.normalize ? text.normalize("NFC") : text;
    value = value.replace(LEADING_SPACE, "").replace(TRAILING_SPACE_AND_PUNCTUATION, "");
    return value.replace(SPACES, " ").replace(CODE_POINT, foldCharacter);
  }

  /**
   * Tabs and line breaks (pasted text) become spaces and other control characters are
   * dropped, so that saved text never grows past twice its length.
   */
  function cleanTypedText(text, maxLength) {
    return text.replace(/[\t\n\r]/g, " ").replace(/[\u0000-\u001f\u007f]/g, "")
      .trim().slice(0, maxLength);
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
