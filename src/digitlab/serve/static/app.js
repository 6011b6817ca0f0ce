// The drawing page: a pad drawn on with pointer events (mouse, pen, touch), sent as a PNG to /api/predict when
// a stroke ends; the answer shows the digit, the top-3 probabilities, the 28x28 image the model saw and, with a
// denoiser, the cleaned image. No library, nothing loaded from elsewhere.
"use strict";

const STROKE = 0.075; // pen width as a fraction of the pad: about 2 px once a full-height digit is fitted into 20x20
const SENT = 64; // the drawing is sent at 64 x 64: over twice the 20 x 20 box the digit is fitted into (the fit still
// anti-aliases; MNIST's test digits drawn at 64 or 280 px read the same, 99.5 %), and a seventh of the server's work
// on the full 280 x 280 pad (0.45 ms against 3.5 ms to make it MNIST-like)
const PAUSE_MS = 250; // a digit of several strokes (4, 5, 7) is read once the pen rests, not after each stroke
const SMALL = 0.3; // a drawing whose ink spans less than this fraction of the pad is enlarged a lot: say so
const INK = "#111";
const PAPER = "#fff";

const pad = document.getElementById("pad");
const ctx = pad.getContext("2d", { willReadFrequently: true }); // read back to measure the ink
const digit = document.getElementById("digit");
const confidence = document.getElementById("confidence");
const notice = document.getElementById("notice");
const bars = document.getElementById("bars");
const seen = document.getElementById("seen");
const cleanedFigure = document.getElementById("cleaned-figure");
const cleaned = document.getElementById("cleaned");
const result = document.getElementById("result");

let drawing = null; // the pointer drawing now, with its last point
let pause = 0; // the timer that sends the drawing once the pen has rested PAUSE_MS
let drawnSmall = false; // the drawing on the pad is small (an upload never is)
let sent = 0; // requests made, so that a late answer to an old drawing is ignored

function clearPad() {
  clearTimeout(pause);
  ctx.fillStyle = PAPER;
  ctx.fillRect(0, 0, pad.width, pad.height);
  sent += 1;
  showEmpty();
}

function point(event) {
  const box = pad.getBoundingClientRect();
  return [(event.clientX - box.left) * pad.width / box.width, (event.clientY - box.top) * pad.height / box.height];
}

function line(from, to) {
  const width = STROKE * pad.width;
  ctx.beginPath();
  if (from[0] === to[0] && from[1] === to[1]) { // a tap: browsers draw no caps on a zero-length line
    ctx.fillStyle = INK;
    ctx.arc(from[0], from[1], width / 2, 0, 2 * Math.PI);
    ctx.fill();
    return;
  }
  ctx.strokeStyle = INK;
  ctx.lineWidth = width;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.moveTo(from[0], from[1]);
  ctx.lineTo(to[0], to[1]);
  ctx.stroke();
}

pad.addEventListener("pointerdown", (event) => {
  if (event.button !== 0) return;
  event.preventDefault();
  clearTimeout(pause); // another stroke of the same digit
  pad.setPointerCapture(event.pointerId);
  const at = point(event);
  drawing = { id: event.pointerId, last: at };
  line(at, at); // a dot for a tap
});

pad.addEventListener("pointermove", (event) => {
  if (!drawing || event.pointerId !== drawing.id) return;
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
  for (const each of events.length ? events : [event]) {
    const at = point(each);
    line(drawing.last, at);
    drawing.last = at;
  }
});

function endStroke(event) {
  if (!drawing || event.pointerId !== drawing.id) return;
  drawing = null;
  clearTimeout(pause);
  pause = setTimeout(sendDrawing, PAUSE_MS);
}

function inkSpan() {
  // The larger side of the ink's bounding box, as a fraction of the pad (0 for an empty pad).
  const data = ctx.getImageData(0, 0, pad.width, pad.height).data;
  let top = pad.height, bottom = -1, left = pad.width, right = -1;
  for (let y = 0; y < pad.height; y += 1) {
    for (let x = 0; x < pad.width; x += 1) {
      if (data[4 * (y * pad.width + x)] < 128) {
        top = Math.min(top, y); bottom = Math.max(bottom, y); left = Math.min(left, x); right = Math.max(right, x);
      }
    }
  }
  return bottom < 0 ? 0 : Math.max(bottom - top, right - left) / pad.width;
}

function sendDrawing() {
  drawnSmall = inkSpan() < SMALL;
  const small = document.createElement("canvas");
  small.width = SENT;
  small.height = SENT;
  const c = small.getContext("2d");
  c.imageSmoothingQuality = "high";
  c.drawImage(pad, 0, 0, SENT, SENT);
  small.toBlob(send, "image/png");
}
pad.addEventListener("pointerup", endStroke);
pad.addEventListener("pointercancel", endStroke);

async function send(blob) {
  // The image itself is the body (image/png for a drawing, the file's own type for an upload): no form to parse.
  const ticket = ++sent;
  result.classList.add("reading");
  let answer;
  let problem = null;
  try {
    const type = blob.type || "application/octet-stream";
    const response = await fetch("/api/predict", { method: "POST", body: blob, headers: { "Content-Type": type } });
    answer = await response.json();
    if (!response.ok) problem = answer.detail || `The server answered ${response.status}.`;
  } catch (error) {
    problem = "The server cannot be reached; is `digitlab serve` still running?";
  }
  if (ticket !== sent) return; // the pad changed since
  result.classList.remove("reading");
  if (problem) showProblem(problem);
  else showAnswer(answer);
}

function showEmpty() {
  result.classList.remove("reading");
  result.classList.add("empty");
  digit.textContent = "?";
  digit.dataset.state = "empty";
  confidence.textContent = "Draw a digit to start";
  notice.hidden = true;
  bars.replaceChildren();
  paintPixels(seen, null);
  paintPixels(cleaned, null);
}

function showProblem(sentence) {
  showEmpty();
  confidence.textContent = "No prediction";
  notice.textContent = sentence;
  notice.hidden = false;
}

function percent(p) {
  if (p < 0.0005) return "< 0.1 %";
  return `${(100 * p).toFixed(p >= 0.995 ? 0 : 1)} %`;
}

function showAnswer(answer) {
  result.classList.remove("empty");
  const unsure = answer.low_confidence || drawnSmall;
  digit.textContent = String(answer.label);
  digit.dataset.state = unsure ? "unsure" : "sure";
  const best = answer.top.length ? answer.top[0].probability : null;
  const odds = best === null ? "" : percent(best);
  if (drawnSmall) {
    confidence.textContent = "Draw it larger";
    notice.textContent = "The digit is small on the pad: the model sees it blown up to MNIST's size, thick "
      + "strokes and all. Fill most of the square.";
  } else if (answer.warnings.length) {
    confidence.textContent = "Check the drawing";
    notice.textContent = answer.warnings.join(" ");
  } else if (answer.low_confidence) {
    confidence.textContent = `Not sure (${odds})`;
    notice.textContent = "The model hesitates: try drawing the digit larger, in one piece, in the middle.";
  } else {
    confidence.textContent = best === null ? "" : `${odds} sure`;
  }
  notice.hidden = !unsure;
  bars.replaceChildren(...answer.top.map(barFor));
  paintPixels(seen, answer.pixels);
  if (answer.cleaned) paintPixels(cleaned, answer.cleaned);
}

function barFor(entry, rank) {
  const row = document.createElement("li");
  row.className = rank === 0 ? "bar best" : "bar";
  const label = document.createElement("span");
  label.className = "bar-label";
  label.textContent = String(entry.label);
  const track = document.createElement("span");
  track.className = "bar-track";
  const fill = document.createElement("span");
  fill.className = "bar-fill";
  fill.style.width = `${Math.max(0.5, 100 * entry.probability)}%`;
  track.append(fill);
  const value = document.createElement("span");
  value.className = "bar-value";
  value.textContent = percent(entry.probability);
  row.append(label, track, value);
  return row;
}

function paintPixels(canvas, pixels) {
  const c = canvas.getContext("2d");
  const image = c.createImageData(28, 28);
  for (let i = 0; i < 784; i += 1) {
    const v = pixels ? pixels[i] : 0;
    image.data.set([v, v, v, 255], 4 * i);
  }
  c.putImageData(image, 0, 0);
}

async function showUpload(file) {
  drawnSmall = false;
  // Draw the photo on the pad (so that what is read is in view), and send the file itself: full resolution.
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(pad.width / bitmap.width, pad.height / bitmap.height);
    const w = bitmap.width * scale;
    const h = bitmap.height * scale;
    ctx.fillStyle = PAPER;
    ctx.fillRect(0, 0, pad.width, pad.height);
    ctx.drawImage(bitmap, (pad.width - w) / 2, (pad.height - h) / 2, w, h);
  } catch (error) {
    clearPad(); // not an image the browser can show; the server says what is wrong with it
  }
  await send(file);
}

document.getElementById("upload").addEventListener("change", (event) => {
  const file = event.target.files[0];
  event.target.value = ""; // the same file may be chosen again
  if (file) showUpload(file);
});
document.getElementById("clear").addEventListener("click", clearPad);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") clearPad();
});

async function showModel() {
  const info = document.getElementById("model-info");
  try {
    const loaded = await (await fetch("/api/model")).json();
    const m = loaded.model;
    const name = m.source === "pretrained" ? `the shipped ${m.model || m.kind}` : (m.source || m.kind);
    const data = m.dataset ? ` trained on ${m.dataset}` + (m.n_train ? ` (${m.n_train.toLocaleString("en")} images)` : "") : "";
    const score = m.test_accuracy != null ? `, test accuracy ${(100 * m.test_accuracy).toFixed(2)} %` : "";
    info.textContent = `Model: ${name}${data}${score}`;
    if (loaded.denoiser) {
      cleanedFigure.hidden = false;
      const d = loaded.denoiser;
      document.getElementById("denoiser-name").textContent = [d.model || d.kind, d.source && `(${d.source})`].filter(Boolean).join(" ");
      info.textContent += ` · denoiser: ${loaded.denoiser.model || loaded.denoiser.kind}`;
    }
  } catch (error) {
    info.textContent = "The server cannot be reached.";
  }
}

clearPad();
showModel();
