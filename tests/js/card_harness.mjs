// Runs the push-to-talk card (the real file) in node against a real Home Assistant websocket,
// connected with the frontend's own library, home-assistant-js-websocket, and its reconnect logic.
// Only the browser is stood in for: a minimal DOM, a fake microphone (48 kHz blocks of a 1 kHz
// tone every 20 ms, fed to the card's own AudioWorklet code) and the `ws` package as WebSocket.
//
//   node card_harness.mjs SCENARIO URL TOKEN ENTITY [CAMERA]
//
// NODE_MODULES names the folder that holds home-assistant-js-websocket and ws (scripts/setup
// installs them under the cache dir). Prints one JSON line per step ({"step": ...}) and a last
// line {"done": true, ...}; exits non-zero on a failed expectation. Every wait is bounded.

import { resolveObjectURL } from "node:buffer";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL, fileURLToPath } from "node:url";

const [scenario, url, token, entity, camera] = process.argv.slice(2);
const unhandled = []; // promise rejections nobody handled (the card's or the library's)
process.on("unhandledRejection", (reason) => {
  unhandled.push(String((reason && (reason.message || reason.code)) || JSON.stringify(reason)));
});
const modules = process.env.NODE_MODULES;
const require = createRequire(join(modules, "noop.js"));
globalThis.WebSocket = require("ws");
const haws = await import(
  pathToFileURL(join(modules, "home-assistant-js-websocket", "dist", "index.js")).href
);

// --- a minimal browser -----------------------------------------------------------------------

class FakeElement {
  constructor() {
    this.style = {};
    this.attributes = {};
    this.listeners = {};
    this.textContent = "";
    this.disabled = false;
    this.hidden = false;
    this.dataset = {};
    this.classList = { toggle() {}, add() {}, remove() {} };
    this._children = {};
  }
  focus() {}
  addEventListener(type, fn) {
    (this.listeners[type] = this.listeners[type] || []).push(fn);
  }
  removeEventListener() {}
  dispatch(type, event) {
    for (const fn of this.listeners[type] || []) fn({ currentTarget: this, ...event });
  }
  setAttribute(name, value) {
    this.attributes[name] = String(value);
  }
  getAttribute(name) {
    return this.attributes[name];
  }
  querySelector(selector) {
    this._children[selector] = this._children[selector] || new FakeElement();
    return this._children[selector];
  }
  get firstElementChild() {
    return this.querySelector(":first");
  }
  appendChild() {}
  dispatchEvent() {
    return true;
  }
  setPointerCapture() {}
}

class FakeShadowRoot extends FakeElement {
  set innerHTML(_html) {
    this._children = {};
  }
}

const registry = new Map();
globalThis.HTMLElement = class extends FakeElement {
  attachShadow() {
    this.shadowRoot = new FakeShadowRoot();
    return this.shadowRoot;
  }
};
globalThis.customElements = {
  get: (name) => registry.get(name),
  define: (name, cls) => registry.set(name, cls),
};
globalThis.window = globalThis;
window.isSecureContext = true;
const documentListeners = {};
globalThis.document = {
  hidden: false,
  addEventListener: (type, fn) => {
    (documentListeners[type] = documentListeners[type] || []).push(fn);
  },
  removeEventListener: () => {},
  documentElement: { lang: "en" },
  querySelector: () => null,
  createElement: (tag) => new (registry.get(tag) || FakeElement)(),
};
Object.defineProperty(globalThis, "navigator", {
  value: { language: "en", mediaDevices: {} },
  configurable: true,
  writable: true,
});

// The microphone: "ok" delivers a 1 kHz tone every 20 ms, "refused" is a permission denied
// after a moment (the user answers the browser's prompt), "mute" opens but never delivers a
// frame. Frames stop once the card disconnects the worklet node (or closes the context).
const microphone = { mode: "ok", opened: 0, nodes: [], tracks: [] };
navigator.mediaDevices.getUserMedia = async () => {
  microphone.opened += 1;
  if (microphone.mode === "refused") {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const err = new Error("Permission denied");
    err.name = "NotAllowedError";
    throw err;
  }
  const track = {
    live: true,
    stop() {
      this.live = false;
    },
  };
  microphone.tracks.push(track);
  return { getTracks: () => [track], track };
};
// The card's worklet module, run as the browser's audio thread would: 48 kHz, its own port.
const CONTEXT_RATE = 48000;
const processors = {};
class FakeAudioWorkletProcessor {
  constructor() {
    this.port = { onmessage: null, postMessage: (data) => this.port.peer(data) };
  }
}
async function addModule(moduleUrl) {
  const source = await resolveObjectURL(moduleUrl).text();
  const register = (name, cls) => {
    processors[name] = cls;
  };
  new Function("AudioWorkletProcessor", "registerProcessor", "sampleRate", source)(
    FakeAudioWorkletProcessor,
    register,
    CONTEXT_RATE,
  );
}
let phase = 0;
function toneBlock() {
  const block = new Float32Array(CONTEXT_RATE / 50); // 20 ms
  for (let i = 0; i < block.length; i++, phase++) {
    block[i] = 0.5 * Math.sin((2 * Math.PI * 1000 * phase) / CONTEXT_RATE);
  }
  return block;
}
globalThis.AudioContext = class {
  constructor() {
    this.closed = false;
    this.audioWorklet = { addModule };
    this.destination = {};
  }
  async resume() {
    this.suspended = false;
  }
  async suspend() {
    this.suspended = true;
  }
  async close() {
    this.closed = true;
  }
  createMediaStreamSource(stream) {
    return { stream, connect: () => {}, disconnect: () => {} };
  }
  createGain() {
    return { gain: {}, connect: () => {} };
  }
};
globalThis.AudioWorkletNode = class {
  constructor(context, name) {
    const processor = new processors[name]();
    this.formats = []; // what the card told the worklet
    this.port = {
      onmessage: null,
      postMessage: (data) => {
        this.formats.push(data);
        processor.port.onmessage({ data });
      },
    };
    processor.port.peer = (data) => this.port.onmessage && this.port.onmessage({ data });
    this.context = context;
    this.connect = () => {};
    this.disconnected = false;
    this.disconnect = () => {
      this.disconnected = true;
    };
    microphone.nodes.push(this);
    if (microphone.mode === "mute") return;
    this.timer = setInterval(() => {
      if (this.context.closed || this.disconnected) {
        clearInterval(this.timer);
        return;
      }
      processor.process([[toneBlock()]]);
    }, 20);
  }
};

// --- the card ----------------------------------------------------------------------------------

const here = fileURLToPath(new URL(".", import.meta.url));
await import(
  pathToFileURL(
    join(here, "..", "..", "custom_components", "volcengine_aiot", "frontend", "volcengine-aiot-talk-card.js"),
  ).href
);
const Card = registry.get("volcengine-aiot-talk-card");

function report(step, extra = {}) {
  console.log(JSON.stringify({ step, ...extra }));
}
function fail(message) {
  console.log(JSON.stringify({ failed: message }));
  process.exit(1);
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(what, predicate, ms = 10000) {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function cardView(card) {
  return {
    state: card._state,
    message: card.shadowRoot.querySelector(".message").textContent,
    label: card.shadowRoot.querySelector(".label").textContent,
    disabled: card.shadowRoot.querySelector("button.talk").disabled,
  };
}

async function connect() {
  const auth = haws.createLongLivedTokenAuth(url, token);
  const connection = await haws.createConnection({ auth });
  const ready = { count: 0 };
  connection.addEventListener("ready", () => {
    ready.count += 1;
  });
  // Every talk subscription the library sends (a press, or a re-send after a reconnect).
  const send = connection.sendMessage.bind(connection);
  connection.sendMessage = (message, id) => {
    if (message && message.type === "volcengine_aiot/talk") talkMessages += 1;
    if (message && message.type === "volcengine_aiot/ptz/hold") holdMessages += 1;
    return send(message, id);
  };
  // The size of every binary message the card sends (handler ID + one frame).
  const sendBinary = connection.socket.send.bind(connection.socket);
  connection.socket.send = (data) => {
    if (typeof data !== "string") frameSizes.push(data.byteLength);
    return sendBinary(data);
  };
  return { connection, ready };
}
let talkMessages = 0;
let holdMessages = 0; // PTZ holds sent (a press, or a re-send after a reconnect)
const frameSizes = [];

function makeCard(connection, language = "en") {
  const card = new Card();
  card.setConfig({ entity, mode: "hold" });
  card.hass = {
    connection,
    locale: { language },
    states: { [entity]: { state: "idle", attributes: { friendly_name: "Front door speaker" } } },
  };
  return card;
}

function press(card) {
  card.shadowRoot.querySelector("button.talk").dispatch("pointerdown", {
    button: 0,
    pointerType: "touch",
    pointerId: 1,
    preventDefault() {},
  });
}
function release(card) {
  card.shadowRoot.querySelector("button.talk").dispatch("pointerup", {
    button: 0,
    pointerType: "touch",
    pointerId: 1,
    preventDefault() {},
  });
}

// Drop the connection the way a network change or a waking tablet does: the socket closes
// without the library asking for it, so the library reconnects (and resubscribes what it may).
async function dropAndReconnect(connection, ready) {
  const before = ready.count;
  connection.socket.close();
  await until("the reconnect", () => ready.count > before && connection.connected, 15000);
  report("reconnected");
  await sleep(1500); // whatever the library re-sends after a reconnect has arrived by now
}

// The card with the PTZ arrows and presets for CAMERA (no picture: there is no frontend here).
function makePtzCard(connection) {
  const card = new Card();
  card.setConfig({ entity, mode: "hold", camera, show_ptz: true, show_presets: true });
  card.hass = {
    connection,
    locale: { language: "en" },
    states: {
      [entity]: { state: "idle", attributes: { friendly_name: "Recorder speaker" } },
      [camera]: { state: "idle", attributes: { friendly_name: "Recorder Garden" } },
    },
  };
  card.connectedCallback(); // attached to the page: it listens for the page being hidden
  return card;
}

function arrow(card, command) {
  return card.shadowRoot.querySelector(`button[data-command="${command}"]`);
}
function pointer(extra = {}) {
  return { button: 0, pointerType: "touch", pointerId: 7, preventDefault() {}, ...extra };
}
function key(name, extra = {}) {
  return { key: name, repeat: false, preventDefault() {}, target: {}, ...extra };
}
function ptzView(card) {
  return {
    held: card._hold ? card._hold.command : null,
    message: card.shadowRoot.querySelector(".ptz-message").textContent,
    controlsHidden: card.shadowRoot.querySelector(".controls").hidden,
    presets: card._ptz,
    stats: card.ptzStats,
  };
}
async function untilMoving(card) {
  await until("moving", () => card.ptzStats.movingAt !== null);
}

// --- scenarios ---------------------------------------------------------------------------------

const scenarios = {
  // The server ends the talk (2 s of silence, here shortened), then the connection drops and
  // comes back: the card must not have left a subscription that the library re-sends.
  async after_end() {
    const { connection, ready } = await connect();
    const card = makeCard(connection);
    press(card);
    await until("talking", () => card._state === "talking");
    report("talking");
    microphone.nodes.at(-1).port.onmessage = null; // the microphone goes quiet; still held
    await until("the end of the talk", () => card._state !== "talking");
    report("ended", cardView(card));
    await dropAndReconnect(connection, ready);
    release(card);
    report("released", cardView(card));
    connection.close();
  },
  // The connection drops during a talk and comes back: the talk is over, it does not start
  // again by itself, and the next press works.
  async during() {
    const { connection, ready } = await connect();
    const card = makeCard(connection);
    press(card);
    await until("talking", () => card._state === "talking");
    report("talking");
    await sleep(300);
    await dropAndReconnect(connection, ready);
    report("after_reconnect", cardView(card));
    if (card._state === "talking" || card._state === "connecting") fail("still talking");
    release(card);
    await sleep(200);
    press(card);
    await until("talking again", () => card._state === "talking");
    report("talking_again");
    await sleep(300);
    release(card);
    report("released", cardView(card));
    await sleep(500);
    connection.close();
  },
  // The card frames by the format of the server's started event (it tells the worklet).
  async format() {
    const { connection } = await connect();
    const card = makeCard(connection);
    press(card);
    await until("frames", () => frameSizes.length >= 5 || card._state === "error");
    release(card);
    report("format", { ...cardView(card), formats: microphone.nodes.at(-1).formats, frameSizes });
    await sleep(300);
    connection.close();
  },
  // PTZ: held with a touch until released; then with the arrow keys on the pad and Space on an
  // arrow; a lost pointer capture and a hidden page end a hold as well.
  async ptz_hold() {
    const { connection } = await connect();
    const card = makePtzCard(connection);
    await until("the presets", () => card._ptz !== null);
    report("presets", ptzView(card));
    arrow(card, "left").dispatch("pointerdown", pointer());
    await untilMoving(card);
    report("moving", ptzView(card));
    await sleep(300);
    arrow(card, "left").dispatch("pointerup", pointer());
    report("released", ptzView(card));
    await sleep(300);
    const controls = card.shadowRoot.querySelector(".controls");
    controls.dispatch("keydown", key("ArrowUp"));
    controls.dispatch("keydown", key("ArrowUp", { repeat: true })); // the key's auto-repeat
    await untilMoving(card);
    await sleep(200);
    controls.dispatch("keyup", key("ArrowUp"));
    report("key_released", ptzView(card));
    await sleep(300);
    controls.dispatch("keydown", key(" ", { target: { dataset: { command: "zoomin" } } }));
    await untilMoving(card);
    controls.dispatch("keyup", key(" "));
    await sleep(300);
    arrow(card, "rightdown").dispatch("pointerdown", pointer());
    await untilMoving(card);
    arrow(card, "rightdown").dispatch("lostpointercapture", pointer());
    report("capture_lost", ptzView(card));
    await sleep(300);
    arrow(card, "right").dispatch("pointerdown", pointer());
    await untilMoving(card);
    document.hidden = true;
    for (const fn of documentListeners.visibilitychange || []) fn();
    document.hidden = false;
    report("page_hidden", ptzView(card));
    await sleep(500);
    connection.close();
  },
  // The connection drops during a hold: the hold ends on the card (the server stops the
  // camera) and is not re-sent after the reconnect; the next press works.
  async ptz_drop() {
    const { connection, ready } = await connect();
    const card = makePtzCard(connection);
    await until("the presets", () => card._ptz !== null);
    arrow(card, "up").dispatch("pointerdown", pointer());
    await untilMoving(card);
    report("moving", ptzView(card));
    await dropAndReconnect(connection, ready);
    report("after_reconnect", ptzView(card));
    if (card._hold !== null) fail("still holding after the reconnect");
    arrow(card, "up").dispatch("pointerup", pointer());
    arrow(card, "down").dispatch("pointerdown", pointer());
    await untilMoving(card);
    await sleep(200);
    arrow(card, "down").dispatch("pointerup", pointer());
    report("released", ptzView(card));
    await sleep(500);
    connection.close();
  },
  // A fixed camera: the arrows stay hidden, the card says it cannot move.
  async ptz_fixed() {
    const { connection } = await connect();
    const card = makePtzCard(connection);
    await until("the presets", () => card._ptz !== null);
    report("fixed", ptzView(card));
    arrow(card, "up").dispatch("pointerdown", pointer()); // hidden, but pressed anyway
    await until("the error", () => card._ptzMessage.includes("cannot"));
    arrow(card, "up").dispatch("pointerup", pointer());
    report("pressed", ptzView(card));
    await sleep(300);
    connection.close();
  },
  // The microphone is refused: the card says so and the camera is never touched.
  async refused() {
    microphone.mode = "refused";
    const { connection } = await connect();
    const card = makeCard(connection);
    press(card);
    await until("the error", () => card._state === "error");
    report("refused", cardView(card));
    release(card);
    await sleep(500);
    connection.close();
  },
  // The microphone opens but delivers nothing (a failing device): the server gives up, the
  // card says so, the camera is never touched.
  async mute() {
    microphone.mode = "mute";
    const { connection } = await connect();
    const card = makeCard(connection);
    press(card);
    await until("the end", () => card._state === "error");
    report("mute", cardView(card));
    release(card);
    await sleep(500);
    connection.close();
  },
};

// No Home Assistant: the picker entry, the stub config and the insecure page.
async function offline() {
  const entry = window.customCards.find((c) => c.type === "volcengine-aiot-talk-card");
  const names = {};
  for (const lang of ["en", "zh-Hans"]) {
    document.documentElement.lang = lang;
    names[lang] = { name: entry.name, description: entry.description };
  }
  // The root element's hass (the signed-in user's language) wins over the page's lang.
  document.querySelector = (sel) => (sel === "home-assistant" ? { hass: { locale: { language: "zh-Hans" } } } : null);
  document.documentElement.lang = "en";
  names.user = { name: entry.name };
  document.querySelector = () => null;
  const states = {
    "media_player.tv": { state: "playing", attributes: {} },
    "media_player.back_yard_speaker": { state: "unavailable", attributes: {} },
    "media_player.front_door_speaker": { state: "idle", attributes: {} },
  };
  const entities = {
    "media_player.back_yard_speaker": { platform: "volcengine_aiot" },
    "media_player.front_door_speaker": { platform: "volcengine_aiot" },
  };
  const stub = Card.getStubConfig({ states, entities });
  const allOffline = Card.getStubConfig({
    states: { ...states, "media_player.front_door_speaker": { state: "unavailable", attributes: {} } },
    entities,
  });
  window.isSecureContext = false;
  const card = new Card();
  card.setConfig({ entity: "media_player.front_door_speaker" });
  card.hass = { locale: { language: "en" }, states, connection: {} };
  const insecure = cardView(card);
  press(card);
  const pressed = { ...cardView(card), microphoneOpened: microphone.opened };
  window.isSecureContext = true;
  // The visual editor in the user's language.
  const editor = document.createElement("volcengine-aiot-talk-card-editor");
  editor.setConfig({ entity: "media_player.front_door_speaker" });
  editor.hass = { locale: { language: "zh-Hans" }, states };
  const form = editor._form;
  const labels = {
    entity: form.computeLabel({ name: "entity" }),
    mode: form.computeLabel({ name: "mode" }),
    options: form.schema[2].selector.select.options.map((o) => o.label),
    camera: ["show_picture", "show_ptz", "show_presets", "camera"].map((name) =>
      form.computeLabel({ name }),
    ),
  };
  // The card with the picture and PTZ for a speaker whose device has no camera in hass.entities.
  const noCamera = new Card();
  noCamera.setConfig({ entity: "media_player.front_door_speaker", show_ptz: true });
  noCamera.hass = { locale: { language: "zh-Hans" }, states, entities, connection: {} };
  labels.noCamera = noCamera.shadowRoot.querySelector(".ptz-message").textContent;
  console.log(JSON.stringify({ done: true, names, stub, allOffline, insecure, pressed, labels }));
}

if (scenario === "offline") {
  await offline();
} else {
  await scenarios[scenario]();
  console.log(
    JSON.stringify({
      done: true,
      talkMessages,
      holdMessages,
      unhandled,
      microphoneOpened: microphone.opened,
      microphoneLive: microphone.tracks.filter((t) => t.live).length, // left open: none
    }),
  );
}
process.exit(0);
