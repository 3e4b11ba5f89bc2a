/*
 * The case player's full-screen image viewer: window.QtiViewer = {open, revealFindings,
 * addOverlay, onImageClick}, and the shape helpers the image questions share (drawShapes, inside).
 *
 * An image is painted at its own aspect ratio, fitted inside its stage (the fitted size is
 * computed here from the file's width and height); zoom and pan are one transform of that
 * box, so the ratio holds at any zoom and later overlays could follow the same transform.
 * A series (the slices of one sequence) scrolls with the wheel, ArrowUp/ArrowDown or its
 * slider; PageUp/PageDown go to the previous/next image of the case (imageOrder).
 *
 * An image may carry overlays (a hotspot or point question's answer, once given): SVG in
 * the image's own pixels, sized and moved with the image, shown with the annotations.
 * While such a question is open, a click (not a drag) on its image answers it here too.
 *
 * Author text comes from the inline JSON (#player-data) and goes in with textContent or as
 * attribute values; the caption is a clone of the gallery's rendered caption nodes, and the
 * findings (checked XHTML from findings.js) are parsed inertly with DOMParser.
 */
(function () {
  "use strict";

  var MIN_ZOOM = 1;
  var MAX_ZOOM = 8;
  var ZOOM_STEP = 1.25;
  var PAN_STEP = 0.1; // of the stage size, per arrow key press
  var WHEEL_PIXELS_PER_SLICE = 50; // a mouse wheel notch is 100 px in Chromium: one slice
  var PRELOADED_NEIGHBOURS = 2; // slices on each side fetched ahead
  var ANNOUNCE_DELAY = 150; // ms: fast scrolling announces only where it stops

  function byId(id) {
    return document.getElementById(id);
  }

  var dialog = byId("viewer");
  var dataElement = byId("player-data");
  if (!dialog || !dataElement) {
    return;
  }
  var data = JSON.parse(dataElement.textContent);
  var images = data.images || {};
  var imageOrder = (data.imageOrder || Object.keys(images)).filter(function (id) {
    return images[id];
  });

  function clamp(value, low, high) {
    return Math.min(high, Math.max(low, value));
  }

  function titleText(entry) {
    return entry.caption + (entry.modality ? " (" + entry.modality + ")" : "");
  }

  /**
   * The gallery's rendered caption (Markdown made XHTML on the server) as cloned nodes,
   * its paragraphs unwrapped so that it reads as one heading.
   */
  function captionNodes(imageId) {
    var fragment = document.createDocumentFragment();
    function add(nodes) {
      Array.prototype.forEach.call(nodes, function (node) {
        if (node.nodeName === "P") {
          if (fragment.hasChildNodes()) {
            fragment.appendChild(document.createTextNode(" "));
          }
          add(node.childNodes);
        } else {
          var copy = node.cloneNode(true);
          if (copy.removeAttribute) {
            copy.removeAttribute("id");
          }
          fragment.appendChild(copy);
        }
      });
    }
    var figures = document.querySelectorAll("figure[data-image]");
    for (var i = 0; i < figures.length; i += 1) {
      var caption = figures[i].getAttribute("data-image") === imageId &&
        figures[i].querySelector(".caption-text");
      if (caption) {
        add(caption.childNodes);
        return fragment;
      }
    }
    fragment.appendChild(document.createTextNode(images[imageId].caption));
    return fragment;
  }

  /** Checked XHTML as nodes, parsed in a document without a browsing context: nothing runs. */
  function parseMarkup(html) {
    var body = new DOMParser().parseFromString(html, "text/html").body;
    var fragment = document.createDocumentFragment();
    Array.prototype.forEach.call(body.childNodes, function (node) {
      fragment.appendChild(document.importNode(node, true));
    });
    return fragment;
  }

  // ----------------------------------------------------------------- shapes

  var SVG = "http://www.w3.org/2000/svg";
  var overlays = {}; // image id: the items drawn over it, as drawShapes takes them
  var clickHandlers = {}; // image id: functions (x, y) of the questions answered on it
  var picks = {}; // image id: the learner's marks made in the viewer, until it closes
  var CLICK_SLOP = 4; // CSS pixels a press may move and still be a click, not a pan

  function svgNode(name, attributes, parent) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (key) {
      node.setAttribute(key, attributes[key]);
    });
    return parent ? parent.appendChild(node) : node;
  }

  /**
   * Draw `items` on `svg` in the image's pixels (origin top-left), replacing what it held:
   * {shape, coords, label, tone} outlined and labelled, {mark: [x, y], tone} as a cross.
   * The viewBox is the image's size and the layer is sized like the painted image, so
   * each shape stays on the anatomy at any size, zoom and pan.
   */
  function drawShapes(svg, width, height, items) {
    svg.textContent = "";
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    var unit = Math.max(width, height) / 40;
    items.forEach(function (item) {
      var tone = "shape " + (item.tone || "");
      var c = item.coords;
      if (item.mark) {
        var x = item.mark[0];
        var y = item.mark[1];
        svgNode("path", {
          "class": tone + " shape-mark",
          d: "M" + (x - unit) + " " + y + "h" + 2 * unit + "M" + x + " " + (y - unit) + "v" + 2 * unit
        }, svg);
        return;
      }
      var node = item.shape === "circle"
        ? svgNode("circle", { cx: c[0], cy: c[1], r: c[2] })
        : item.shape === "rect"
          ? svgNode("rect", { x: c[0], y: c[1], width: c[2] - c[0], height: c[3] - c[1] })
          : svgNode("polygon", { points: c.join(" ") });
      node.setAttribute("class", tone);
      svg.appendChild(node);
      if (item.label) {
        var box = bounds(item);
        var text = svgNode("text", {
          "class": tone + " shape-label",
          x: box[0],
          y: box[1] > unit * 1.5 ? box[1] - unit / 3 : box[3] + unit * 1.2,
          "font-size": unit
        }, svg);
        text.textContent = item.label;
      }
    });
  }

  /** [left, top, right, bottom] of a shape, in image pixels. */
  function bounds(area) {
    var c = area.coords;
    if (area.shape === "circle") {
      return [c[0] - c[2], c[1] - c[2], c[0] + c[2], c[1] + c[2]];
    }
    var xs = c.filter(function (v, i) { return i % 2 === 0; });
    var ys = c.filter(function (v, i) { return i % 2 === 1; });
    return [Math.min.apply(null, xs), Math.min.apply(null, ys),
      Math.max.apply(null, xs), Math.max.apply(null, ys)];
  }

  /**
   * Whether image pixel (x, y) is inside a shape, by the rules QTI's `inside` is scored
   * with (pyslet, after HTML image maps): a circle's edge is in; a rectangle takes its
   * left and top edges, not its right and bottom; a polygon is ray-cast.
   */
  function inside(area, x, y) {
    var c = area.coords;
    if (area.shape === "circle") {
      return (x - c[0]) * (x - c[0]) + (y - c[1]) * (y - c[1]) <= c[2] * c[2];
    }
    if (area.shape === "rect") {
      return x >= Math.min(c[0], c[2]) && x < Math.max(c[0], c[2]) &&
        y >= Math.min(c[1], c[3]) && y < Math.max(c[1], c[3]);
    }
    var crossings = 0;
    for (var i = 0; i < c.length; i += 2) {
      var j = (i + 2) % c.length;
      var low = c[i + 1] < c[j + 1] ? i : j; // the vertex with the smaller y
      var high = low === i ? j : i;
      var x0 = c[low];
      var y0 = c[low + 1];
      var x1 = c[high];
      var y1 = c[high + 1];
      if (y0 === y1 || y < y0 || y >= y1) {
        continue;
      }
      if (y === y0) {
        crossings += x >= x0;
      } else if (!(x < x0 && x < x1) && (y - y0) * (x1 - x0) / (y1 - y0) + x0 <= x) {
        crossings += 1;
      }
    }
    return crossings % 2 === 1;
  }

  // -------------------------------------------------------------------- pane

  /** One stage showing one image (or one slice of a series) with its own zoom and pan. */
  function Pane(root, viewer) {
    this.root = root;
    this.viewer = viewer;
    this.stage = root.querySelector(".viewer-stage");
    this.image = root.querySelector(".viewer-stage img");
    this.overlay = svgNode("svg", { "class": "shape-overlay", "aria-hidden": "true" }, this.stage);
    this.label = root.querySelector(".pane-caption");
    this.seriesBar = root.querySelector(".viewer-series");
    this.slider = root.querySelector(".slice-slider");
    this.sliceText = root.querySelector(".slice-text");
    this.id = null;
    this.entry = null;
    this.slice = 0;
    this.annotated = false;
    this.scale = 1;
    this.x = 0;
    this.y = 0;
    this.pointers = {};
    this.press = null; // where a lone pointer went down, while it may still be a click
    this.gesture = null;
    this.wheelRest = 0;
    this.preloaded = {};
    this.bind();
  }

  Pane.prototype.bind = function () {
    var pane = this;
    var stage = this.stage;
    stage.addEventListener("focus", function () {
      pane.viewer.activate(pane);
    });
    stage.addEventListener("wheel", function (event) {
      event.preventDefault();
      pane.viewer.activate(pane);
      if (pane.entry.series && !event.ctrlKey) {
        pane.wheelSlices(event);
      } else {
        var factor = Math.exp(-event.deltaY * (event.deltaMode === 1 ? 0.05 : 0.0015));
        pane.zoomBy(factor, pane.stagePoint(event));
      }
    }, { passive: false });
    stage.addEventListener("dblclick", function (event) {
      if (pane.scale > MIN_ZOOM) {
        pane.resetView();
      } else {
        pane.zoomBy(2.5, pane.stagePoint(event));
      }
    });
    stage.addEventListener("pointerdown", function (event) {
      pane.onPointerDown(event);
    });
    stage.addEventListener("pointermove", function (event) {
      pane.onPointerMove(event);
    });
    ["pointerup", "pointercancel", "lostpointercapture"].forEach(function (type) {
      stage.addEventListener(type, function (event) {
        pane.onPointerUp(event);
      });
    });
    this.slider.addEventListener("input", function () {
      pane.viewer.activate(pane);
      pane.setSlice(Number(pane.slider.value) - 1, true); // the slider speaks for itself
    });
    if (window.ResizeObserver) {
      new ResizeObserver(function () {
        pane.apply();
      }).observe(stage);
    }
  };

  Pane.prototype.load = function (imageId) {
    var entry = images[imageId];
    this.id = imageId;
    this.entry = entry;
    this.slice = 0;
    this.annotated = false;
    this.stage.setAttribute("aria-label", entry.alt); // the long alt text, read once
    this.label.textContent = titleText(entry);
    this.seriesBar.hidden = !entry.series;
    if (entry.series) {
      this.slider.max = String(entry.series.length);
    }
    this.scale = 1;
    this.x = 0;
    this.y = 0;
    this.show();
  };

  /** What is painted: the annotated version, the current slice, or the image itself. */
  Pane.prototype.version = function () {
    var entry = this.entry;
    if (this.annotated && entry.annotated) {
      return entry.annotated;
    }
    return entry.series ? entry.series[this.slice] : entry;
  };

  Pane.prototype.show = function () {
    var version = this.version();
    this.image.src = version.src;
    var drawn = ((this.annotated && overlays[this.id]) || []).concat(picks[this.id] || []);
    this.overlay.style.display = drawn.length ? "" : "none";
    if (drawn.length) {
      drawShapes(this.overlay, this.entry.width, this.entry.height, drawn);
    }
    var series = this.entry.series;
    if (series) {
      var text = "slice " + (this.slice + 1) + " of " + series.length;
      this.slider.value = String(this.slice + 1);
      this.slider.setAttribute("aria-valuetext", text);
      this.sliceText.textContent = text;
      this.preload(series);
    }
    this.apply();
  };

  /** Neighbouring slices are fetched ahead, so scrolling shows them without a gap. */
  Pane.prototype.preload = function (series) {
    for (var step = -PRELOADED_NEIGHBOURS; step <= PRELOADED_NEIGHBOURS; step += 1) {
      var slice = series[this.slice + step];
      if (slice && !this.preloaded[slice.src]) {
        this.preloaded[slice.src] = new Image();
        this.preloaded[slice.src].src = slice.src;
      }
    }
  };

  Pane.prototype.setSlice = function (index, quiet) {
    var series = this.entry.series;
    index = clamp(index, 0, series.length - 1);
    if (index === this.slice) {
      return;
    }
    this.slice = index;
    this.show();
    if (!quiet) {
      this.viewer.announce("Slice " + (index + 1) + " of " + series.length);
    }
  };

  Pane.prototype.wheelSlices = function (event) {
    var unit = event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? 400 : 1;
    this.wheelRest += event.deltaY * unit;
    if (Math.abs(this.wheelRest) >= WHEEL_PIXELS_PER_SLICE) {
      this.setSlice(this.slice + (this.wheelRest > 0 ? 1 : -1));
      this.wheelRest = 0;
    }
  };

  /** A pointer position relative to the stage's centre. */
  Pane.prototype.stagePoint = function (event) {
    var box = this.stage.getBoundingClientRect();
    return {
      x: event.clientX - box.left - box.width / 2,
      y: event.clientY - box.top - box.height / 2
    };
  };

  /** Zoom about a point of the stage (its centre by default), keeping that point still. */
  Pane.prototype.zoomBy = function (factor, point) {
    var target = clamp(this.scale * factor, MIN_ZOOM, MAX_ZOOM);
    var at = point || { x: 0, y: 0 };
    var ratio = target / this.scale;
    this.x = at.x - (at.x - this.x) * ratio;
    this.y = at.y - (at.y - this.y) * ratio;
    this.scale = target;
    this.apply();
  };

  Pane.prototype.panBy = function (dx, dy) {
    this.x += dx;
    this.y += dy;
    this.apply();
  };

  Pane.prototype.resetView = function () {
    this.scale = 1;
    this.x = 0;
    this.y = 0;
    this.apply();
  };

  /**
   * Fit the image's box inside the stage at the file's aspect ratio, then zoom and pan it
   * with one transform, kept over the stage so it cannot be dragged out of sight.
   */
  Pane.prototype.apply = function () {
    if (!this.entry) {
      return;
    }
    var version = this.version();
    var width = this.stage.clientWidth;
    var height = this.stage.clientHeight;
    var fit = Math.max(0, Math.min(width / version.width, height / version.height));
    var boxWidth = version.width * fit;
    var boxHeight = version.height * fit;
    var limitX = Math.max(0, (boxWidth * this.scale - width) / 2);
    var limitY = Math.max(0, (boxHeight * this.scale - height) / 2);
    this.x = clamp(this.x, -limitX, limitX);
    this.y = clamp(this.y, -limitY, limitY);
    var pane = this;
    [this.image, this.overlay].forEach(function (layer) {
      var style = layer.style;
      style.width = boxWidth + "px";
      style.height = boxHeight + "px";
      style.marginLeft = -boxWidth / 2 + "px";
      style.marginTop = -boxHeight / 2 + "px";
      style.transform = "translate(" + pane.x + "px, " + pane.y + "px) scale(" + pane.scale + ")";
    });
    if (this.viewer.active === this) {
      this.viewer.zoomOutput.textContent = Math.round(this.scale * 100) + "%";
    }
  };

  Pane.prototype.onPointerDown = function (event) {
    if (event.button !== undefined && event.button > 0) {
      return;
    }
    this.viewer.activate(this);
    this.stage.setPointerCapture(event.pointerId);
    this.pointers[event.pointerId] = { x: event.clientX, y: event.clientY };
    this.gesture = null;
    this.stage.classList.add("is-dragging");
    // One pointer that comes up where it went down is a click on the image; more is a pinch.
    this.press = Object.keys(this.pointers).length === 1 ? { x: event.clientX, y: event.clientY } : null;
  };

  Pane.prototype.onPointerMove = function (event) {
    var previous = this.pointers[event.pointerId];
    if (!previous) {
      return;
    }
    if (this.press && Math.hypot(event.clientX - this.press.x, event.clientY - this.press.y) > CLICK_SLOP) {
      this.press = null;
    }
    var ids = Object.keys(this.pointers);
    if (ids.length === 1) {
      this.panBy(event.clientX - previous.x, event.clientY - previous.y);
    } else if (ids.length === 2) {
      var other = this.pointers[ids[0] === String(event.pointerId) ? ids[1] : ids[0]];
      var distance = Math.hypot(event.clientX - other.x, event.clientY - other.y);
      var middle = this.stagePoint({
        clientX: (event.clientX + other.x) / 2,
        clientY: (event.clientY + other.y) / 2
      });
      if (this.gesture) {
        this.zoomBy(distance / this.gesture.distance, middle);
        this.panBy(middle.x - this.gesture.middle.x, middle.y - this.gesture.middle.y);
      }
      this.gesture = { distance: distance || 1, middle: middle };
    }
    this.pointers[event.pointerId] = { x: event.clientX, y: event.clientY };
  };

  Pane.prototype.onPointerUp = function (event) {
    var press = this.press;
    this.press = null;
    delete this.pointers[event.pointerId];
    this.gesture = null;
    if (Object.keys(this.pointers).length === 0) {
      this.stage.classList.remove("is-dragging");
    }
    if (press && event.type === "pointerup" &&
        Math.hypot(event.clientX - press.x, event.clientY - press.y) <= CLICK_SLOP) {
      this.clickImage(event);
    }
  };

  /**
   * A click on the image answers the open question asked on it (onImageClick), at the
   * image pixel under the pointer through the current zoom and pan; the question's marks
   * are drawn here and its words announced.
   */
  Pane.prototype.clickImage = function (event) {
    var box = this.image.getBoundingClientRect();
    var x = ((event.clientX - box.left) * this.entry.width) / box.width;
    var y = ((event.clientY - box.top) * this.entry.height) / box.height;
    if (x < 0 || y < 0 || x > this.entry.width || y > this.entry.height) {
      return;
    }
    var handlers = clickHandlers[this.id] || [];
    for (var i = 0; i < handlers.length; i += 1) {
      var answer = handlers[i](x, y);
      if (answer) {
        picks[this.id] = answer.items;
        this.show();
        this.viewer.announce(answer.message);
        return;
      }
    }
  };

  // ------------------------------------------------------------------ viewer

  function Viewer() {
    var viewer = this;
    this.title = byId("viewer-title");
    this.position = byId("viewer-position");
    this.zoomOutput = byId("viewer-zoom");
    this.status = byId("viewer-status");
    this.brightness = byId("viewer-brightness");
    this.contrast = byId("viewer-contrast");
    this.compare = byId("viewer-compare");
    this.panesBox = byId("viewer-panes");
    this.help = byId("viewer-help");
    this.findingsPanel = byId("viewer-findings");
    this.findingsBody = byId("viewer-findings-body");
    this.buttons = {};
    Array.prototype.forEach.call(dialog.querySelectorAll("[data-action]"), function (button) {
      viewer.buttons[button.getAttribute("data-action")] = button;
    });
    this.panes = [new Pane(byId("viewer-pane-1"), this), new Pane(byId("viewer-pane-2"), this)];
    this.active = this.panes[0];
    this.opener = null;
    this.inverted = false;
    this.findings = {};
    this.showFindings = false;
    this.announceTimer = null;
    imageOrder.forEach(function (id) {
      var option = document.createElement("option");
      option.value = id;
      option.textContent = titleText(images[id]);
      viewer.compare.appendChild(option);
    });
    this.buttons.fullscreen.hidden = !document.fullscreenEnabled;
    this.bind();
  }

  Viewer.prototype.bind = function () {
    var viewer = this;
    var actions = {
      previous: function () { viewer.step(-1); },
      next: function () { viewer.step(1); },
      "zoom-in": function () { viewer.zoom(ZOOM_STEP); },
      "zoom-out": function () { viewer.zoom(1 / ZOOM_STEP); },
      reset: function () { viewer.reset(); },
      invert: function () { viewer.invert(); },
      annotations: function () { viewer.toggleAnnotations(); },
      fullscreen: function () { viewer.toggleFullscreen(); },
      help: function () { viewer.toggleHelp(); },
      findings: function () { viewer.toggleFindings(); },
      close: function () { dialog.close(); }
    };
    dialog.addEventListener("click", function (event) {
      var button = event.target.closest("[data-action]");
      if (button && actions[button.getAttribute("data-action")]) {
        actions[button.getAttribute("data-action")]();
      }
    });
    dialog.addEventListener("keydown", function (event) {
      viewer.onKey(event);
    });
    dialog.addEventListener("close", function () {
      viewer.onClose();
    });
    [this.brightness, this.contrast].forEach(function (slider) {
      slider.addEventListener("input", function () {
        viewer.applyFilter();
      });
    });
    this.compare.addEventListener("change", function () {
      viewer.setCompare(viewer.compare.value);
    });
    document.addEventListener("fullscreenchange", function () {
      viewer.buttons.fullscreen.setAttribute("aria-pressed", String(!!document.fullscreenElement));
    });
  };

  Viewer.prototype.open = function (imageId, opener) {
    if (!images[imageId]) {
      return;
    }
    this.opener = opener || document.activeElement;
    if (!dialog.open && typeof dialog.showModal === "function") {
      dialog.showModal();
    } else if (!dialog.open) {
      dialog.setAttribute("open", "");
    }
    this.active = this.panes[0];
    this.setCompare("", true);
    this.brightness.value = "100";
    this.contrast.value = "100";
    this.inverted = false;
    this.applyFilter();
    this.panes[0].load(imageId);
    this.describe();
    this.panes[0].stage.focus();
  };

  Viewer.prototype.onClose = function () {
    if (document.fullscreenElement && document.exitFullscreen) {
      document.exitFullscreen().catch(function () {});
    }
    this.panes.forEach(function (pane) {
      pane.image.removeAttribute("src");
    });
    window.clearTimeout(this.announceTimer);
    this.status.textContent = "";
    picks = {};
    if (this.opener && document.contains(this.opener)) {
      this.opener.focus();
    }
  };

  Viewer.prototype.activate = function (pane) {
    if (this.active !== pane) {
      this.active = pane;
      this.describe();
    }
  };

  /** Tell screen reader users what changed, through the live region inside the dialog. */
  Viewer.prototype.announce = function (message) {
    var status = this.status;
    window.clearTimeout(this.announceTimer);
    this.announceTimer = window.setTimeout(function () {
      status.textContent = message;
    }, ANNOUNCE_DELAY);
  };

  /** Title, position, zoom and the tools that depend on the active pane's image. */
  Viewer.prototype.describe = function () {
    var first = this.panes[0];
    var pane = this.active;
    this.title.textContent = "";
    this.title.appendChild(captionNodes(first.id));
    if (first.entry.modality) {
      this.title.appendChild(document.createTextNode(" (" + first.entry.modality + ")"));
    }
    this.position.textContent = "Image " + (imageOrder.indexOf(pane.id) + 1) + " of " +
      imageOrder.length;
    var annotations = this.buttons.annotations;
    annotations.hidden = !pane.entry.annotated && !overlays[pane.id];
    annotations.setAttribute("aria-pressed", String(pane.annotated));
    this.zoomOutput.textContent = Math.round(pane.scale * 100) + "%";
    this.renderFindings();
    this.keepFocus();
  };

  /** Next or previous image of the case in the active pane, wrapping around. */
  Viewer.prototype.step = function (delta) {
    var pane = this.active;
    var count = imageOrder.length;
    var index = (imageOrder.indexOf(pane.id) + delta + count) % count;
    pane.load(imageOrder[index]);
    if (pane === this.panes[1]) {
      this.compare.value = pane.id;
    }
    this.describe();
    var entry = pane.entry;
    this.announce("Image " + (index + 1) + " of " + count + ": " + titleText(entry) +
      (entry.series ? ", " + entry.series.length + " slices" : ""));
  };

  /** A second pane beside (or, on a narrow screen, below) the first, or none. */
  Viewer.prototype.setCompare = function (imageId, quiet) {
    var second = this.panes[1];
    var comparing = !!(imageId && images[imageId]);
    this.compare.value = comparing ? imageId : "";
    second.root.hidden = !comparing;
    this.panesBox.classList.toggle("is-comparing", comparing);
    if (comparing) {
      second.load(imageId);
    } else {
      this.active = this.panes[0];
    }
    this.panes[0].apply();
    if (!quiet) {
      this.describe();
      this.announce(comparing ? "Comparing with " + titleText(second.entry) : "Comparison closed");
    }
  };

  Viewer.prototype.zoom = function (factor) {
    this.active.zoomBy(factor);
    this.announce("Zoom " + this.zoomOutput.textContent);
  };

  Viewer.prototype.toggleAnnotations = function () {
    var pane = this.active;
    if (!pane.entry.annotated && !overlays[pane.id]) {
      return;
    }
    pane.annotated = !pane.annotated;
    pane.show();
    this.buttons.annotations.setAttribute("aria-pressed", String(pane.annotated));
    this.announce(pane.annotated ? "Annotations shown" : "Annotations hidden");
  };

  Viewer.prototype.invert = function () {
    this.inverted = !this.inverted;
    this.applyFilter();
    this.announce(this.inverted ? "Inverted" : "Not inverted");
  };

  /** Brightness, contrast and invert: the browser's image filters, on both panes alike. */
  Viewer.prototype.applyFilter = function () {
    var filter = "brightness(" + this.brightness.value + "%) contrast(" + this.contrast.value +
      "%)" + (this.inverted ? " invert(1)" : "");
    this.panes.forEach(function (pane) {
      pane.image.style.filter = filter;
    });
    this.buttons.invert.setAttribute("aria-pressed", String(this.inverted));
  };

  /** Key 0: zoom, pan, brightness, contrast and invert back to where they started. */
  Viewer.prototype.reset = function () {
    this.brightness.value = "100";
    this.contrast.value = "100";
    this.inverted = false;
    this.applyFilter();
    this.panes.forEach(function (pane) {
      pane.resetView();
    });
    this.announce("Reset: fitted, original brightness and contrast");
  };

  Viewer.prototype.toggleFullscreen = function () {
    if (document.fullscreenElement) {
      document.exitFullscreen().catch(function () {});
    } else if (document.fullscreenEnabled) {
      document.documentElement.requestFullscreen().catch(function () {});
    }
  };

  Viewer.prototype.toggleHelp = function () {
    this.help.hidden = !this.help.hidden;
    this.buttons.help.setAttribute("aria-expanded", String(!this.help.hidden));
  };

  /** Called by player.js once the findings are loaded: {imageId: checked XHTML}. */
  Viewer.prototype.revealFindings = function (findingsById) {
    var viewer = this;
    Object.keys(findingsById || {}).forEach(function (id) {
      if (typeof findingsById[id] === "string" && images[id]) {
        viewer.findings[id] = parseMarkup(findingsById[id]);
      }
    });
    if (dialog.open) {
      this.describe();
    }
  };

  Viewer.prototype.toggleFindings = function () {
    this.showFindings = !this.showFindings;
    this.renderFindings();
  };

  Viewer.prototype.renderFindings = function () {
    var findings = this.findings[this.active.id];
    var button = this.buttons.findings;
    button.hidden = !findings;
    button.setAttribute("aria-expanded", String(!!findings && this.showFindings));
    this.findingsPanel.hidden = !findings || !this.showFindings;
    if (findings && this.findingsBody.getAttribute("data-image") !== this.active.id) {
      this.findingsBody.textContent = "";
      this.findingsBody.appendChild(findings.cloneNode(true));
      this.findingsBody.setAttribute("data-image", this.active.id);
    }
  };

  /** A control that went away (hidden tool, closed pane) hands focus to the image. */
  Viewer.prototype.keepFocus = function () {
    var focused = document.activeElement;
    if (dialog.open && (!focused || !dialog.contains(focused) || focused.closest("[hidden]"))) {
      this.active.stage.focus();
    }
  };

  Viewer.prototype.onKey = function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey ||
        (target.matches && target.matches("input, select, textarea"))) {
      return; // sliders and the select keep their own keys; Esc closes natively
    }
    var pane = this.active;
    var key = event.key;
    var series = pane.entry && pane.entry.series;
    var panX = pane.stage.clientWidth * PAN_STEP;
    var panY = pane.stage.clientHeight * PAN_STEP;
    var handled = true;
    if (key === "+" || key === "=" || key === "Add") {
      this.zoom(ZOOM_STEP);
    } else if (key === "-" || key === "_" || key === "Subtract" || key === "\u2212") {
      this.zoom(1 / ZOOM_STEP);
    } else if (key === "0") {
      this.reset();
    } else if (key === "PageUp" || key === "PageDown") {
      this.step(key === "PageUp" ? -1 : 1);
    } else if (series && !event.shiftKey && (key === "ArrowUp" || key === "ArrowDown")) {
      pane.setSlice(pane.slice + (key === "ArrowDown" ? 1 : -1));
    } else if (series && (key === "Home" || key === "End")) {
      pane.setSlice(key === "Home" ? 0 : series.length - 1);
    } else if (key === "ArrowLeft" || key === "ArrowRight") {
      pane.panBy(key === "ArrowLeft" ? panX : -panX, 0);
    } else if (key === "ArrowUp" || key === "ArrowDown") {
      pane.panBy(0, key === "ArrowUp" ? panY : -panY);
    } else if (key === "a" || key === "A") {
      this.toggleAnnotations();
    } else if (key === "i" || key === "I") {
      this.invert();
    } else if ((key === "f" || key === "F") && !this.buttons.fullscreen.hidden) {
      this.toggleFullscreen();
    } else {
      handled = false; // Tab moves between the tools
    }
    if (handled) {
      event.preventDefault();
    }
  };

  var viewer = new Viewer();
  window.QtiViewer = {
    open: function (imageId, opener) {
      viewer.open(imageId, opener);
    },
    revealFindings: function (findingsById) {
      viewer.revealFindings(findingsById);
    },
    /** Items (as drawShapes takes them) drawn over an image when annotations are shown. */
    addOverlay: function (imageId, items) {
      overlays[imageId] = (overlays[imageId] || []).concat(items);
    },
    /**
     * `handler(x, y)` is called with the image pixel of a click on image `imageId` in the
     * viewer; it returns null if its question is not open, else {items, message}: the
     * marks to draw (as drawShapes takes them) and the words to announce.
     */
    onImageClick: function (imageId, handler) {
      (clickHandlers[imageId] = clickHandlers[imageId] || []).push(handler);
    },
    drawShapes: drawShapes,
    bounds: bounds,
    inside: inside
  };
})();
