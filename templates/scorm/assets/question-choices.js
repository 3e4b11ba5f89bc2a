/*
 * The choice question types (single, multiple, true_false) for player.js: lettered
 * choices as radio buttons or check boxes, shuffled unless fixed. A state code is the
 * chosen keys in order ("a", "ace"); true/false writes "t" or "f".
 */
(function () {
  "use strict";

  var TRUE_FALSE = { "true": "t", "false": "f" };

  function checkedKeys(question) {
    return question.choiceInputs
      .filter(function (input) {
        return input.checked;
      })
      .map(function (input) {
        return input.value;
      });
  }

  /** Shuffle the choices that are not fixed, keeping fixed ones where they are. */
  function shuffle(fieldset, fixedKeys) {
    var choices = Array.prototype.slice.call(fieldset.querySelectorAll(".choice"));
    var movable = choices.filter(function (choice) {
      return fixedKeys.indexOf(choice.getAttribute("data-key")) < 0;
    });
    var order = movable.slice();
    for (var i = order.length - 1; i > 0; i -= 1) {
      var j = Math.floor(Math.random() * (i + 1));
      var swap = order[i];
      order[i] = order[j];
      order[j] = swap;
    }
    var placeholders = movable.map(function (choice) {
      var marker = document.createComment("choice");
      fieldset.replaceChild(marker, choice);
      return marker;
    });
    placeholders.forEach(function (marker, index) {
      fieldset.replaceChild(order[index], marker);
    });
  }

  /** What the choice types share; each type below changes what differs. */
  function choiceType(own) {
    var type = {
      emptyMessage: "Choose an answer first.",
      setup: function (question) {
        question.fieldset = question.article.querySelector("fieldset");
        question.choiceInputs = Array.prototype.slice.call(
          question.article.querySelectorAll("input[type=radio], input[type=checkbox]")
        );
        if (question.spec.shuffle) {
          shuffle(question.fieldset, question.spec.fixed || []);
        }
      },
      focusTarget: function (question) {
        return question.choiceInputs[0];
      },
      codeOf: function (keys) {
        return keys.slice().sort().join("");
      },
      keysOf: function (code) {
        return code.split("");
      },
      read: function (question) {
        return this.codeOf(checkedKeys(question));
      },
      /** Letters of its choices, each once, in order. */
      accepts: function (question, code) {
        var keys = question.choiceInputs.map(function (input) {
          return input.value;
        });
        var chosen = code.split("");
        return chosen.every(function (key, index) {
          return keys.indexOf(key) >= 0 && (index === 0 || chosen[index - 1] < key);
        });
      },
      points: function (question, code) {
        var spec = question.spec;
        if (spec.choiceValues) {
          var sum = 0;
          code.split("").forEach(function (key) {
            sum += spec.choiceValues[key] || 0;
          });
          return Math.min(spec.points, Math.max(0, sum));
        }
        return code === spec.correct ? spec.points : 0;
      },
      studentResponse: function (question, code) {
        return code;
      },
      chosenKeys: function (question, code) {
        return this.keysOf(code);
      },
      /** Lock the choices with the answer given, each marked right or wrong. */
      show: function (question, code) {
        var chosen = this.keysOf(code);
        var right = this.keysOf(question.spec.correct);
        question.choiceInputs.forEach(function (input) {
          var key = input.value;
          var choice = input.closest(".choice");
          var markText = "";
          input.checked = chosen.indexOf(key) >= 0;
          if (input.checked && right.indexOf(key) >= 0) {
            choice.classList.add("is-correct");
            markText = "✓ your answer, correct";
          } else if (input.checked) {
            choice.classList.add("is-wrong");
            markText = "✗ your answer, incorrect";
          } else if (right.indexOf(key) >= 0) {
            choice.classList.add("is-correct");
            markText = "✓ correct answer";
          }
          var markElement = choice.querySelector(".choice-mark");
          markElement.textContent = markText ? "(" + markText + ")" : "";
          markElement.hidden = !markText;
        });
        question.fieldset.disabled = true;
      }
    };
    Object.keys(own).forEach(function (name) {
      type[name] = own[name];
    });
    return type;
  }

  var types = window.QtiQuestions = window.QtiQuestions || {};
  var anyChoices = choiceType({}).accepts;

  types.single = choiceType({
    accepts: function (question, code) {
      return code.length === 1 && anyChoices(question, code);
    }
  });

  types.multiple = choiceType({
    studentResponse: function (question, code) {
      return code.split("").join(",");
    }
  });

  types.true_false = choiceType({
    codeOf: function (keys) {
      return keys.map(function (key) {
        return TRUE_FALSE[key];
      }).join("");
    },
    keysOf: function (code) {
      return code === "t" ? ["true"] : code === "f" ? ["false"] : [];
    },
    accepts: function (question, code) {
      return code === "t" || code === "f";
    }
  });
})();
