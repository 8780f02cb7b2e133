/*
 * Volcengine AIoT Video: push-to-talk card.
 *
 * Served by the integration itself (no resource to add). Hold the button (or the space/enter
 * key) and speak: the microphone is captured with echo cancellation, noise suppression and
 * auto gain, an AudioWorklet downmixes and resamples it to the format the integration's `started`
 * event names (8 kHz mono signed 16-bit, 20 ms frames of 320 bytes) and cuts frames, which are
 * sent as binary messages on Home Assistant's own websocket
 * connection to the `volcengine_aiot/talk` subscription. The integration starts the talk on the
 * camera only once the first frame arrives, so a press whose microphone delivers nothing never
 * touches the camera. Releasing unsubscribes: the integration plays what it has and stops the
 * talk. A talk subscription is never re-established after a reconnect (only a press starts a
 * talk), and the card unsubscribes as soon as the server ends a talk.
 *
 *   type: custom:volcengine-aiot-talk-card
 *   entity: media_player.front_door_speaker
 *   mode: hold        # or toggle: tap to start, tap to stop
 */

const CARD_TAG = "volcengine-aiot-talk-card";
const EDITOR_TAG = "volcengine-aiot-talk-card-editor";
const DOMAIN = "volcengine_aiot";
const WORKLET_NAME = "volcengine-aiot-pcm-framer";
const SAMPLE_FORMAT = "s16le"; // what the worklet makes (Int16Array: little-endian everywhere)

const STRINGS = {
  en: {
    card_name: "Push-to-talk (Volcengine AIoT)",
    card_description: "Hold a button and speak through a camera speaker.",
    hold: "Hold to talk",
    tap: "Tap to talk",
    connecting: "Connecting…",
    talking_hold: "Talking – release to stop",
    talking_toggle: "Talking – tap to stop",
    ended_silence: "Stopped: no sound from the microphone for 2 seconds.",
    ended_interrupted: "Stopped: another playback took the speaker, or it was stopped.",
    ended_closed: "Stopped.",
    ended_no_audio: "Stopped: the microphone delivered no sound. Nothing was sent to the camera.",
    insecure:
      "The browser allows the microphone only on a secure page. Open Home Assistant over https:// (for example with Home Assistant Cloud or your own certificate), in the browser or in the companion app.",
    denied:
      "Microphone access was denied. Allow the microphone for this site in the browser's site settings (the icon in the address bar) or in the app's permissions, then try again.",
    no_mic: "No microphone was found on this device.",
    mic_error: "The microphone could not be started: {error}",
    unauthorized: "You are not allowed to control {entity}.",
    talk_in_progress: "Someone is already talking through {name}. Try again when they have finished.",
    device_unavailable: "{name} is offline or unavailable.",
    not_a_speaker: "{entity} is not a speaker of Volcengine AIoT Video.",
    no_entity: "Choose a camera speaker in the card settings.",
    entity_missing: "Entity not found: {entity}",
    disconnected: "The connection to Home Assistant was lost.",
    failed: "The talk failed: {error}",
    label_entity: "Camera speaker",
    label_name: "Name (optional)",
    label_mode: "Mode",
    mode_hold: "Hold to talk",
    mode_toggle: "Tap to start, tap again to stop",
    level: "Microphone level",
  },
  "zh-Hans": {
    card_name: "按住对讲（火山引擎视频云）",
    card_description: "按住按钮，通过摄像头扬声器对讲、说话。",
    hold: "按住说话",
    tap: "点击说话",
    connecting: "正在连接…",
    talking_hold: "正在说话 – 松开结束",
    talking_toggle: "正在说话 – 再点一次结束",
    ended_silence: "已结束：麦克风 2 秒没有声音。",
    ended_interrupted: "已结束：扬声器被其他播放占用或已停止。",
    ended_closed: "已结束。",
    ended_no_audio: "已结束：麦克风没有提供声音，没有向摄像头发送任何内容。",
    insecure:
      "浏览器只允许在安全页面使用麦克风。请通过 https:// 打开 Home Assistant（例如 Home Assistant Cloud 或自己的证书），浏览器和手机应用都一样。",
    denied:
      "麦克风权限被拒绝。请在浏览器的网站设置（地址栏中的图标）或应用权限中允许此网站使用麦克风，然后重试。",
    no_mic: "此设备上没有找到麦克风。",
    mic_error: "无法启动麦克风：{error}",
    unauthorized: "你没有控制 {entity} 的权限。",
    talk_in_progress: "已有人正在通过 {name} 对讲，请稍后再试。",
    device_unavailable: "{name} 离线或不可用。",
    not_a_speaker: "{entity} 不是火山引擎视频云的扬声器。",
    no_entity: "请在卡片设置中选择一个摄像头扬声器。",
    entity_missing: "找不到实体：{entity}",
    disconnected: "与 Home Assistant 的连接已断开。",
    failed: "对讲失败：{error}",
    label_entity: "摄像头扬声器",
    label_name: "名称（可选）",
    label_mode: "模式",
    mode_hold: "按住说话",
    mode_toggle: "点击开始，再点击结束",
    level: "麦克风音量",
  },
};

// Server error translation keys the card words itself (in the user's language).
const SERVER_KEYS = {
  talk_in_progress: "talk_in_progress",
  device_unavailable: "device_unavailable",
  talk_entity_not_found: "not_a_speaker",
};

function language(hass) {
  const lang = (hass && ((hass.locale && hass.locale.language) || hass.language)) || "en";
  return lang.toLowerCase().startsWith("zh") ? "zh-Hans" : "en";
}

// The signed-in user's language now (the card picker reads the card's name when it opens).
function pageHass() {
  const root = document.querySelector && document.querySelector("home-assistant");
  if (root && root.hass) return root.hass;
  return { language: document.documentElement.lang || navigator.language || "en" };
}

// The browser gives the microphone only to secure pages.
function microphoneAvailable() {
  return Boolean(
    window.isSecureContext && navigator.mediaDevices && navigator.mediaDevices.getUserMedia,
  );
}

function localize(hass, key, values = {}) {
  const table = STRINGS[language(hass)];
  let text = table[key] !== undefined ? table[key] : STRINGS.en[key];
  for (const [name, value] of Object.entries(values)) {
    text = text.split(`{${name}}`).join(String(value));
  }
  return text;
}

// --- the AudioWorklet: downmix, low-pass, resample to the server's rate, Int16 frames -------

const WORKLET_SOURCE = `
class Framer extends AudioWorkletProcessor {
  constructor() {
    super();
    this.ratio = 0; // nothing is framed until the card posts the server's format
    this.port.onmessage = (ev) => this.configure(ev.data);
  }
  configure({ rate, samples }) {
    this.ratio = sampleRate / rate;
    this.samples = samples;
    this.pos = 0;
    this.prev = 0;
    this.frame = new Int16Array(samples);
    // The first frame is sent after the first 2 ms of audio (silence before it): the talk starts
    // on the camera with it, so the microphone's first audio is not held back for a whole frame.
    this.count = samples - Math.round(rate * 0.002);
    this.energy = 0;
    // 4th-order Butterworth low-pass at 0.425 × the rate (3.4 kHz at 8 kHz; two biquads)
    // against aliasing.
    this.sections = [0.5412, 1.3066].map((q) => {
      const w0 = (2 * Math.PI * Math.min(rate * 0.425, sampleRate * 0.45)) / sampleRate;
      const alpha = Math.sin(w0) / (2 * q);
      const cos = Math.cos(w0);
      const a0 = 1 + alpha;
      return {
        b0: (1 - cos) / 2 / a0, b1: (1 - cos) / a0, b2: (1 - cos) / 2 / a0,
        a1: (-2 * cos) / a0, a2: (1 - alpha) / a0, x1: 0, x2: 0, y1: 0, y2: 0,
      };
    });
  }
  filter(x) {
    for (const s of this.sections) {
      const y = s.b0 * x + s.b1 * s.x1 + s.b2 * s.x2 - s.a1 * s.y1 - s.a2 * s.y2;
      s.x2 = s.x1; s.x1 = x; s.y2 = s.y1; s.y1 = y;
      x = y;
    }
    return x;
  }
  emit(value) {
    const clamped = Math.max(-1, Math.min(1, value));
    this.frame[this.count++] = clamped < 0 ? clamped * 0x8000 : clamped * 0x7fff;
    this.energy += clamped * clamped;
    if (this.count === this.samples) {
      const level = Math.sqrt(this.energy / this.samples);
      this.port.postMessage({ pcm: this.frame.buffer, level }, [this.frame.buffer]);
      this.frame = new Int16Array(this.samples);
      this.count = 0;
      this.energy = 0;
    }
  }
  process(inputs) {
    const input = inputs[0];
    if (this.ratio === 0 || !input || input.length === 0 || input[0].length === 0) return true;
    const length = input[0].length;
    const mono = new Float32Array(length);
    for (const channel of input) {
      for (let i = 0; i < length; i++) mono[i] += channel[i] / input.length;
    }
    if (this.ratio > 1) {
      for (let i = 0; i < length; i++) mono[i] = this.filter(mono[i]);
    }
    // Linear interpolation between filtered samples; index -1 is the last one of the
    // previous block.
    let t = this.pos;
    while (t < length - 1) {
      const i = Math.floor(t);
      const a = i < 0 ? this.prev : mono[i];
      const b = mono[i + 1];
      this.emit(a + (b - a) * (t - i));
      t += this.ratio;
    }
    this.pos = t - length;
    this.prev = mono[length - 1];
    return true;
  }
}
registerProcessor("${WORKLET_NAME}", Framer);
`;

let workletUrl = null;
function workletModuleUrl() {
  if (workletUrl === null) {
    workletUrl = URL.createObjectURL(new Blob([WORKLET_SOURCE], { type: "text/javascript" }));
  }
  return workletUrl;
}

class MicrophoneError extends Error {
  constructor(key, detail = "") {
    super(key);
    this.key = key;
    this.detail = detail;
  }
}

// --- the card ------------------------------------------------------------------------------

class VolcengineAiotTalkCard extends HTMLElement {
  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    this._config = null;
    this._hass = null;
    this._state = "idle"; // idle | connecting | talking | error
    this._message = "";
    this._session = null;
    this._engine = null; // a promise of the AudioContext with the worklet loaded
    this._level = 0;
    // Timings of the last talk (ms, performance.now()): for users and the browser test.
    this.stats = {
      pressedAt: null,
      subscribedAt: null,
      microphoneAt: null, // the browser opened the microphone
      firstFrameAt: null, // its first 20 ms frame (the talk starts on the camera with it)
      talkingAt: null,
      framesSent: 0,
    };
  }

  static getConfigElement() {
    return document.createElement(EDITOR_TAG);
  }

  static getStubConfig(hass) {
    // A new card gets a camera speaker of ours that can talk now (not just the first one found).
    const states = (hass && hass.states) || {};
    const ids = Object.keys(states).filter((id) => id.startsWith("media_player."));
    const entities = (hass && hass.entities) || {};
    const ours = ids.filter((id) => entities[id] && entities[id].platform === DOMAIN);
    const available = (id) => !["unavailable", "unknown"].includes(states[id].state);
    const entity =
      ours.find(available) ||
      ours[0] ||
      ids.find((id) => id.endsWith("_speaker") && available(id)) ||
      "";
    return { entity, mode: "hold" };
  }

  setConfig(config) {
    if (!config || typeof config !== "object") {
      throw new Error("Invalid configuration");
    }
    if (config.mode !== undefined && !["hold", "toggle"].includes(config.mode)) {
      throw new Error("mode must be hold or toggle");
    }
    this._config = { mode: "hold", ...config };
    this._render();
  }

  set hass(hass) {
    const first = this._hass === null;
    this._hass = hass;
    if (first) {
      this._render();
      if (this.isConnected) this._prepareAudio();
    } else {
      this._update();
    }
  }

  get hass() {
    return this._hass;
  }

  getCardSize() {
    return 2;
  }

  getGridOptions() {
    return { columns: 6, rows: 2, min_columns: 3 };
  }

  connectedCallback() {
    if (this._hass) this._prepareAudio();
  }

  disconnectedCallback() {
    this._stop();
    const engine = this._engine;
    this._engine = null;
    if (engine) engine.then((context) => context.close()).catch(() => {});
  }

  // The audio context and its worklet, made before the first press and kept between presses
  // (suspended), so a press only waits for the microphone. No microphone is opened here.
  _prepareAudio() {
    if (!this._engine && microphoneAvailable() && window.AudioContext) {
      const context = new AudioContext({ latencyHint: "interactive" });
      this._engine = context.audioWorklet.addModule(workletModuleUrl()).then(() => context);
      this._engine.catch(() => {
        this._engine = null; // tried again at the press, which then reports the error
        context.close().catch(() => {});
      });
    }
    return this._engine;
  }

  _t(key, values) {
    return localize(this._hass, key, values);
  }

  get _entityId() {
    return (this._config && this._config.entity) || "";
  }

  get _toggle() {
    return this._config && this._config.mode === "toggle";
  }

  _name() {
    if (this._config && this._config.name) return this._config.name;
    const state = this._hass && this._hass.states[this._entityId];
    return (state && state.attributes.friendly_name) || this._entityId;
  }

  _render() {
    if (!this._config || !this._hass) return;
    this.shadowRoot.innerHTML = `
      <style>
        :host { display: block; }
        ha-card { padding: 16px; display: flex; flex-direction: column; gap: 12px; }
        .name { font-size: 1.1em; font-weight: 500; color: var(--primary-text-color); }
        button {
          display: flex; align-items: center; justify-content: center; gap: 8px;
          min-height: 64px; border: none; border-radius: var(--ha-card-border-radius, 12px);
          font: inherit; font-size: 1.05em; cursor: pointer; touch-action: none;
          user-select: none; -webkit-user-select: none; -webkit-touch-callout: none;
          background: var(--primary-color); color: var(--text-primary-color, #fff);
        }
        button:focus-visible { outline: 3px solid var(--accent-color, #ff9800); }
        button[disabled] { opacity: 0.5; cursor: default; }
        :host([state="connecting"]) button { background: var(--warning-color, #ffa600); }
        :host([state="talking"]) button { background: var(--error-color, #db4437); }
        .meter { height: 6px; border-radius: 3px; background: var(--divider-color, #ddd);
                 overflow: hidden; }
        .meter > div { height: 100%; width: 0; background: var(--success-color, #43a047);
                       transition: width 60ms linear; }
        .message { min-height: 1.2em; color: var(--secondary-text-color); font-size: 0.9em; }
        :host([state="error"]) .message { color: var(--error-color, #db4437); }
        svg { width: 24px; height: 24px; fill: currentColor; }
      </style>
      <ha-card>
        <div class="name"></div>
        <button type="button">
          <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12,2A3,3 0 0,1 15,5V11A3,3 0 0,1 12,14A3,3 0 0,1 9,11V5A3,3 0 0,1 12,2M19,11C19,14.53 16.39,17.44 13,17.93V21H11V17.93C7.61,17.44 5,14.53 5,11H7A5,5 0 0,0 12,16A5,5 0 0,0 17,11H19Z"/></svg>
          <span class="label"></span>
        </button>
        <div class="meter" role="meter" aria-valuemin="0" aria-valuemax="100"><div></div></div>
        <div class="message" role="status" aria-live="polite"></div>
      </ha-card>`;
    const button = this.shadowRoot.querySelector("button");
    button.addEventListener("pointerdown", (ev) => this._onPointerDown(ev));
    button.addEventListener("pointerup", (ev) => this._onPointerUp(ev));
    button.addEventListener("pointercancel", (ev) => this._onPointerUp(ev));
    button.addEventListener("lostpointercapture", (ev) => this._onPointerUp(ev));
    button.addEventListener("contextmenu", (ev) => ev.preventDefault());
    button.addEventListener("keydown", (ev) => this._onKeyDown(ev));
    button.addEventListener("keyup", (ev) => this._onKeyUp(ev));
    this._update();
  }

  _update() {
    const root = this.shadowRoot;
    if (!root || !root.querySelector("button") || !this._hass) return;
    this.setAttribute("state", this._state);
    const stateObj = this._hass.states[this._entityId];
    let problem = "";
    if (!microphoneAvailable()) problem = this._t("insecure"); // before anyone presses
    else if (!this._entityId) problem = this._t("no_entity");
    else if (!stateObj) problem = this._t("entity_missing", { entity: this._entityId });
    else if (stateObj.state === "unavailable" && this._state === "idle") {
      problem = this._t("device_unavailable", { name: this._name() });
    }
    root.querySelector(".name").textContent = this._name();
    const button = root.querySelector("button");
    button.disabled = Boolean(problem) && this._state === "idle";
    let label;
    if (this._state === "connecting") label = this._t("connecting");
    else if (this._state === "talking") {
      label = this._t(this._toggle ? "talking_toggle" : "talking_hold");
    } else label = this._t(this._toggle ? "tap" : "hold");
    root.querySelector(".label").textContent = label;
    button.setAttribute("aria-pressed", String(this._state !== "idle" && this._state !== "error"));
    const meter = root.querySelector(".meter");
    meter.setAttribute("aria-label", this._t("level"));
    const percent = this._state === "talking" ? Math.min(100, Math.round(this._level * 400)) : 0;
    meter.setAttribute("aria-valuenow", String(percent));
    meter.firstElementChild.style.width = `${percent}%`;
    root.querySelector(".message").textContent = problem || this._message;
  }

  _setState(state, message = "") {
    this._state = state;
    this._message = message;
    if (state !== "talking") this._level = 0;
    this._update();
  }

  // --- input: hold (pointer, keyboard) or toggle ---------------------------------------------

  _onPointerDown(ev) {
    if (ev.button !== 0 && ev.pointerType === "mouse") return;
    ev.preventDefault();
    if (this._toggle) {
      if (this._session) this._stop();
      else this._start();
      return;
    }
    try {
      ev.currentTarget.setPointerCapture(ev.pointerId);
    } catch (_err) {
      // capture is best effort (a synthetic pointer has none)
    }
    this._start();
  }

  _onPointerUp(ev) {
    if (this._toggle) return;
    ev.preventDefault();
    this._stop();
  }

  _onKeyDown(ev) {
    if (ev.key !== " " && ev.key !== "Enter") return;
    ev.preventDefault();
    if (ev.repeat) return;
    if (this._toggle) {
      if (this._session) this._stop();
      else this._start();
    } else {
      this._start();
    }
  }

  _onKeyUp(ev) {
    if (ev.key !== " " && ev.key !== "Enter") return;
    ev.preventDefault();
    if (!this._toggle) this._stop();
  }

  // --- a talk ----------------------------------------------------------------------------------

  async _start() {
    if (this._session || !this._hass || !this._entityId) return;
    const connection = this._hass.connection;
    const session = {
      released: false,
      torn: false, // torn down: whatever still arrives is closed at once
      handlerId: null,
      format: null, // the worklet's format, from the server's started event
      unsub: null,
      audio: null,
      connection,
      onDisconnect: null,
    };
    this._session = session;
    this.stats = {
      pressedAt: performance.now(),
      subscribedAt: null,
      microphoneAt: null,
      firstFrameAt: null,
      talkingAt: null,
      framesSent: 0,
    };
    this._setState("connecting");
    if (!microphoneAvailable()) {
      this._fail(session, this._t("insecure"));
      return;
    }
    // A lost connection ends the talk on the server; the subscription is not re-established.
    session.onDisconnect = () => {
      if (this._session === session) this._fail(session, this._t("disconnected"));
    };
    connection.addEventListener("disconnected", session.onDisconnect);
    // The microphone and the subscription start at the same time; the server starts the talk on
    // the camera with the first frame. A failure of either ends both at once.
    const failed = (err) => {
      if (this._session === session) this._fail(session, this._describe(err));
      else this._teardown(session);
    };
    await Promise.all([
      this._openMicrophone(session).catch(failed),
      this._subscribe(session).catch(failed),
    ]);
    if (session.released) this._teardown(session);
  }

  async _openMicrophone(session) {
    // The audio context (made before the press, or now) is readied while the microphone opens.
    const engine =
      this._prepareAudio() || Promise.reject(new MicrophoneError("mic_error", "no Web Audio"));
    engine.catch(() => {}); // awaited below, once the microphone is open
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: {
          echoCancellation: true,
          noiseSuppression: true,
          autoGainControl: true,
          channelCount: 1,
        },
      });
    } catch (err) {
      const name = err && err.name;
      if (name === "NotAllowedError" || name === "SecurityError") throw new MicrophoneError("denied");
      if (name === "NotFoundError" || name === "OverconstrainedError") {
        throw new MicrophoneError("no_mic");
      }
      throw new MicrophoneError("mic_error", (err && err.message) || String(err));
    }
    this.stats.microphoneAt = performance.now();
    const audio = { stream, context: null, source: null, node: null };
    session.audio = audio;
    if (session.torn) {
      this._closeAudio(audio); // released meanwhile
      return;
    }
    const context = await engine;
    await context.resume();
    if (session.torn) {
      // _teardown stopped the stream; the context rests until the next press
      if (this._session === null) context.suspend().catch(() => {});
      return;
    }
    audio.context = context;
    const source = context.createMediaStreamSource(stream);
    const node = new AudioWorkletNode(context, WORKLET_NAME, {
      numberOfInputs: 1,
      numberOfOutputs: 1,
      channelCountMode: "max",
    });
    const mute = context.createGain();
    mute.gain.value = 0;
    source.connect(node);
    node.connect(mute);
    mute.connect(context.destination); // keeps the worklet pulled in every browser
    node.port.onmessage = (ev) => this._onFrame(session, ev.data);
    audio.source = source;
    audio.node = node;
    if (session.format) node.port.postMessage(session.format);
  }

  async _subscribe(session) {
    // Never resubscribed by the websocket library after a reconnect: only a press starts a talk.
    const unsub = await session.connection.subscribeMessage(
      (event) => this._onEvent(session, event),
      { type: `${DOMAIN}/talk`, entity_id: this._entityId },
      { resubscribe: false },
    );
    this.stats.subscribedAt = performance.now();
    if (session.torn) {
      unsub().catch(() => {}); // released or failed meanwhile
    } else {
      session.unsub = unsub;
    }
  }

  _onEvent(session, event) {
    if (this._session !== session) return;
    if (event.type === "started") {
      // The server says what it plays: the worklet frames the microphone by it.
      const samples = (event.sample_rate * event.frame_ms) / 1000;
      if (event.sample_format !== SAMPLE_FORMAT || samples * 2 !== event.frame_bytes) {
        this._fail(session, this._t("failed", { error: `audio format ${event.sample_format}` }));
        return;
      }
      session.format = { rate: event.sample_rate, samples };
      session.handlerId = event.binary_handler_id;
      if (session.audio && session.audio.node) session.audio.node.port.postMessage(session.format);
    } else if (event.type === "talking") {
      this.stats.talkingAt = performance.now();
      if (!session.released) this._setState("talking");
    } else if (event.type === "ended") {
      // The talk is over on the server: unsubscribe (the teardown does), so nothing of it is
      // left on either side and no reconnect can bring it back.
      const key = {
        silence: "ended_silence",
        interrupted: "ended_interrupted",
        no_audio: "ended_no_audio",
      }[event.reason];
      this._teardown(session);
      this._setState(key ? "error" : "idle", key ? this._t(key) : "");
    } else if (event.type === "error") {
      this._fail(session, this._serverMessage(event.code, event.message));
    }
  }

  _onFrame(session, data) {
    if (this._session !== session || session.released) return;
    if (this.stats.firstFrameAt === null) this.stats.firstFrameAt = performance.now();
    this._level = data.level;
    if (session.handlerId === null) return; // the talk is not subscribed yet
    const socket = this._hass.connection.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      this._fail(session, this._t("disconnected"));
      return;
    }
    const message = new Uint8Array(1 + data.pcm.byteLength);
    message[0] = session.handlerId;
    message.set(new Uint8Array(data.pcm), 1);
    socket.send(message);
    this.stats.framesSent += 1;
    if (this.stats.framesSent % 3 === 0) this._update(); // the level meter, ~17 times a second
  }

  _stop() {
    const session = this._session;
    if (!session) return;
    session.released = true;
    if (this._state !== "error") this._setState("idle");
    this._teardown(session);
  }

  _fail(session, message) {
    session.released = true;
    this._teardown(session);
    this._setState("error", message);
    // eslint-disable-next-line no-console
    console.warn(`${CARD_TAG}: ${message}`);
  }

  _teardown(session) {
    if (this._session === session) this._session = null;
    session.torn = true;
    if (session.onDisconnect) {
      session.connection.removeEventListener("disconnected", session.onDisconnect);
      session.onDisconnect = null;
    }
    const unsub = session.unsub;
    session.unsub = null;
    if (unsub) {
      unsub().catch(() => {}); // the connection may be gone: the server ends the talk then
    }
    const audio = session.audio;
    session.audio = null;
    if (audio) this._closeAudio(audio);
  }

  _closeAudio(audio) {
    for (const track of audio.stream.getTracks()) track.stop();
    if (audio.node) {
      audio.node.port.onmessage = null;
      audio.source.disconnect();
      audio.node.disconnect();
    }
    // The context is kept for the next press, suspended (it renders nothing meanwhile).
    if (audio.context && this._session === null) audio.context.suspend().catch(() => {});
  }

  _describe(err) {
    if (err instanceof MicrophoneError) return this._t(err.key, { error: err.detail });
    if (err && typeof err === "object" && "code" in err) {
      if (err.code === "unauthorized") return this._t("unauthorized", { entity: this._name() });
      return this._serverMessage(err.translation_key, err.message);
    }
    return this._t("failed", { error: (err && err.message) || String(err) });
  }

  _serverMessage(key, message) {
    const own = SERVER_KEYS[key];
    if (own) return this._t(own, { name: this._name(), entity: this._entityId });
    return message || this._t("failed", { error: key || "?" });
  }
}

// --- the visual editor -----------------------------------------------------------------------

class VolcengineAiotTalkCardEditor extends HTMLElement {
  constructor() {
    super();
    this._config = {};
    this._hass = null;
    this._form = null;
  }

  setConfig(config) {
    this._config = { ...config };
    this._update();
  }

  set hass(hass) {
    this._hass = hass;
    this._update();
  }

  _schema() {
    const t = (key) => localize(this._hass, key);
    return [
      {
        name: "entity",
        required: true,
        selector: { entity: { filter: { domain: "media_player", integration: DOMAIN } } },
      },
      { name: "name", selector: { text: {} } },
      {
        name: "mode",
        selector: {
          select: {
            mode: "dropdown",
            options: [
              { value: "hold", label: t("mode_hold") },
              { value: "toggle", label: t("mode_toggle") },
            ],
          },
        },
      },
    ];
  }

  _update() {
    if (!this._hass) return;
    if (!this._form) {
      this._form = document.createElement("ha-form");
      this._form.computeLabel = (schema) => localize(this._hass, `label_${schema.name}`);
      this._form.addEventListener("value-changed", (ev) => {
        ev.stopPropagation();
        const config = { ...ev.detail.value };
        if (!config.name) delete config.name;
        this._config = config;
        this.dispatchEvent(
          new CustomEvent("config-changed", { detail: { config }, bubbles: true, composed: true }),
        );
      });
      this.appendChild(this._form);
    }
    this._form.hass = this._hass;
    this._form.schema = this._schema();
    this._form.data = { mode: "hold", ...this._config };
  }
}

if (!customElements.get(CARD_TAG)) {
  customElements.define(CARD_TAG, VolcengineAiotTalkCard);
  customElements.define(EDITOR_TAG, VolcengineAiotTalkCardEditor);
  window.customCards = window.customCards || [];
  window.customCards.push({
    type: CARD_TAG,
    // Read when the card picker opens: in the signed-in user's language at that time.
    get name() {
      return localize(pageHass(), "card_name");
    },
    get description() {
      return localize(pageHass(), "card_description");
    },
    preview: false,
    documentationURL: "https://github.com/volcengine-aiot-ha/volcengine_aiot#talk-from-the-dashboard",
  });
}
