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
 * The card can also show the camera's live picture (the frontend's own `ha-camera-stream`, so
 * WebRTC/HLS/MJPEG work as in the more-info dialog) with pan/tilt/zoom arrows and a preset picker
 * over it, for a camera that can move. A held arrow is a `volcengine_aiot/ptz/hold` subscription:
 * the camera moves until the card unsubscribes (release, pointer lost, page hidden) or the
 * connection closes, and the integration always ends it with a stop. Like a talk, a hold is never
 * re-established after a reconnect.
 *
 *   type: custom:volcengine-aiot-talk-card
 *   entity: media_player.front_door_speaker
 *   mode: hold        # or toggle: tap to start, tap to stop
 *   camera: camera.front_door   # optional: the camera to show and steer (default: the speaker's)
 *   show_picture: true          # optional (default false): the live picture
 *   show_ptz: true              # optional (default false): pan/tilt/zoom arrows (PTZ cameras)
 *   show_presets: true          # optional (default false): the preset picker (PTZ cameras)
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
    label_camera: "Camera to show and steer (default: the speaker's)",
    label_show_picture: "Show the live picture",
    label_show_ptz: "Show pan, tilt and zoom arrows",
    label_show_presets: "Show the presets",
    picture: "Live picture of {name}",
    ptz_pad: "Pan and tilt: hold an arrow, or the arrow keys while the pad has focus",
    ptz_up: "Tilt up",
    ptz_down: "Tilt down",
    ptz_left: "Pan left",
    ptz_right: "Pan right",
    ptz_leftup: "Up and left",
    ptz_rightup: "Up and right",
    ptz_leftdown: "Down and left",
    ptz_rightdown: "Down and right",
    ptz_zoomin: "Zoom in",
    ptz_zoomout: "Zoom out",
    presets: "Presets",
    preset_goto: "Go to a preset",
    no_presets: "No presets",
    cannot_move: "{name} cannot move.",
    no_camera: "No camera found for this speaker: choose one in the card settings.",
    ptz_failed: "The camera could not move: {error}",
    preset_failed: "The camera could not go to the preset: {error}",
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
    label_camera: "显示和控制的摄像头（默认：扬声器所在的摄像头）",
    label_show_picture: "显示实时画面",
    label_show_ptz: "显示云台方向和变焦按钮",
    label_show_presets: "显示预置位",
    picture: "{name} 的实时画面",
    ptz_pad: "云台方向：按住箭头，或在方向盘获得焦点时按住方向键",
    ptz_up: "向上",
    ptz_down: "向下",
    ptz_left: "向左",
    ptz_right: "向右",
    ptz_leftup: "左上",
    ptz_rightup: "右上",
    ptz_leftdown: "左下",
    ptz_rightdown: "右下",
    ptz_zoomin: "放大（拉近）",
    ptz_zoomout: "缩小（拉远）",
    presets: "预置位",
    preset_goto: "转到预置位",
    no_presets: "没有预置位",
    cannot_move: "{name} 不能转动。",
    no_camera: "没有找到此扬声器的摄像头：请在卡片设置中选择一个。",
    ptz_failed: "摄像头无法转动：{error}",
    preset_failed: "摄像头无法转到预置位：{error}",
  },
};

// Server error translation keys the card words itself (in the user's language).
const SERVER_KEYS = {
  talk_in_progress: "talk_in_progress",
  device_unavailable: "device_unavailable",
  talk_entity_not_found: "not_a_speaker",
  ptz_not_supported: "cannot_move",
};

// --- PTZ: the arrows over the picture ----------------------------------------------------------

const PRESET_SERVICE = "ptz_preset"; // volcengine_aiot.ptz_preset: action goto, preset
const CAMERA_STREAM_TAG = "ha-camera-stream"; // the frontend's own (more-info, picture cards)
const CAMERA_STREAM_TIMEOUT = 10000; // ms: then the card shows the camera's still image
// The 3 x 3 pad (the centre is empty) and its arrows' rotation from "up".
const PAD = [
  ["leftup", 315], ["up", 0], ["rightup", 45],
  ["left", 270], null, ["right", 90],
  ["leftdown", 225], ["down", 180], ["rightdown", 135],
];
const ZOOM = ["zoomin", "zoomout"];
// Keys held on the focused pad: arrows, the corners of a numeric keypad's layout, + and -.
const PAD_KEYS = {
  ArrowUp: "up",
  ArrowDown: "down",
  ArrowLeft: "left",
  ArrowRight: "right",
  Home: "leftup",
  PageUp: "rightup",
  End: "leftdown",
  PageDown: "rightdown",
  "+": "zoomin",
  "=": "zoomin",
  "-": "zoomout",
};
const ARROW_PATH = "M13,20H11V8L5.5,13.5L4.08,12.08L12,4.16L19.92,12.08L18.5,13.5L13,8V20Z";
const ZOOM_PATHS = {
  zoomin: "M19,13H13V19H11V13H5V11H11V5H13V11H19V13Z",
  zoomout: "M19,13H5V11H19V13Z",
};

// Loads the frontend's camera stream element where no card of the page has loaded it yet: a
// picture-entity card with a live view imports it (the card made here is never shown).
let cameraStreamLoading = null;
function cameraStreamReady() {
  if (customElements.get(CAMERA_STREAM_TAG)) return Promise.resolve(true);
  if (cameraStreamLoading === null) {
    cameraStreamLoading = (async () => {
      if (window.loadCardHelpers) {
        const helpers = await window.loadCardHelpers();
        helpers.createCardElement({ type: "picture-entity", entity: "camera.none", camera_view: "live" });
      }
      let timer;
      await Promise.race([
        customElements.whenDefined(CAMERA_STREAM_TAG),
        new Promise((resolve) => {
          timer = setTimeout(resolve, CAMERA_STREAM_TIMEOUT);
        }),
      ]);
      clearTimeout(timer);
      return Boolean(customElements.get(CAMERA_STREAM_TAG));
    })().catch(() => false);
  }
  return cameraStreamLoading;
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

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
    this._hold = null; // the held PTZ arrow: { command, key, unsub, ... }
    this._ptz = null; // the camera's answer to ptz/presets: { can_move, presets }
    this._ptzFor = null; // the camera that answer is of
    this._ptzMessage = "";
    this._picture = null; // the camera stream element (or the still image)
    this._onBlur = () => this._ptzEnd();
    this._onVisibility = () => {
      if (document.hidden) this._ptzEnd();
    };
    // Timings of the last PTZ hold (ms, performance.now()): for the browser test.
    this.ptzStats = { pressedAt: null, movingAt: null, releasedAt: null, stoppedAt: null };
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
    return { entity, mode: "hold", show_picture: true, show_ptz: true, show_presets: true };
  }

  setConfig(config) {
    if (!config || typeof config !== "object") {
      throw new Error("Invalid configuration");
    }
    if (config.mode !== undefined && !["hold", "toggle"].includes(config.mode)) {
      throw new Error("mode must be hold or toggle");
    }
    for (const key of ["show_picture", "show_ptz", "show_presets"]) {
      if (config[key] !== undefined && typeof config[key] !== "boolean") {
        throw new Error(`${key} must be true or false`);
      }
    }
    if (config.camera !== undefined && !String(config.camera).startsWith("camera.")) {
      throw new Error("camera must be a camera entity");
    }
    this._ptzEnd();
    this._picture = null;
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
    return this._config && this._config.show_picture ? 7 : 2;
  }

  getGridOptions() {
    if (this._config && this._config.show_picture) return { columns: 12, min_columns: 6 };
    return { columns: 6, rows: 2, min_columns: 3 };
  }

  connectedCallback() {
    if (this._hass) this._prepareAudio();
    if (window.addEventListener) window.addEventListener("blur", this._onBlur);
    if (document.addEventListener) document.addEventListener("visibilitychange", this._onVisibility);
  }

  disconnectedCallback() {
    if (window.removeEventListener) window.removeEventListener("blur", this._onBlur);
    if (document.removeEventListener) {
      document.removeEventListener("visibilitychange", this._onVisibility);
    }
    this._ptzEnd();
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

  get _showsCamera() {
    const c = this._config || {};
    return Boolean(c.show_picture || c.show_ptz || c.show_presets);
  }

  // The camera to show and steer: the configured one, else the camera of the speaker's device
  // (the first by entity ID where a recorder has several channels).
  get _cameraId() {
    if (this._config && this._config.camera) return this._config.camera;
    const entities = (this._hass && this._hass.entities) || {};
    const speaker = entities[this._entityId];
    if (!speaker || !speaker.device_id) return "";
    const cameras = Object.values(entities)
      .filter(
        (e) =>
          e.device_id === speaker.device_id &&
          e.entity_id.startsWith("camera.") &&
          e.platform === DOMAIN,
      )
      .map((e) => e.entity_id)
      .sort();
    return cameras[0] || "";
  }

  _cameraName() {
    const state = this._hass && this._hass.states[this._cameraId];
    return (state && state.attributes.friendly_name) || this._cameraId;
  }

  _render() {
    if (!this._config || !this._hass) return;
    this.shadowRoot.innerHTML = `
      <style>
        :host { display: block; }
        ha-card { padding: 16px; display: flex; flex-direction: column; gap: 12px; }
        .name { font-size: 1.1em; font-weight: 500; color: var(--primary-text-color); }
        button.talk {
          display: flex; align-items: center; justify-content: center; gap: 8px;
          min-height: 64px; border: none; border-radius: var(--ha-card-border-radius, 12px);
          font: inherit; font-size: 1.05em; cursor: pointer; touch-action: none;
          user-select: none; -webkit-user-select: none; -webkit-touch-callout: none;
          background: var(--primary-color); color: var(--text-primary-color, #fff);
        }
        button:focus-visible, .controls:focus-visible, select:focus-visible {
          outline: 3px solid var(--accent-color, #ff9800);
        }
        button[disabled] { opacity: 0.5; cursor: default; }
        :host([state="connecting"]) button.talk { background: var(--warning-color, #ffa600); }
        :host([state="talking"]) button.talk { background: var(--error-color, #db4437); }
        .view { position: relative; border-radius: var(--ha-card-border-radius, 12px);
                overflow: hidden; }
        .view.picture { background: #000; min-height: 160px; }
        .view.picture ha-camera-stream, .view.picture img.still { display: block; width: 100%; }
        .view:not(.picture) .overlay { display: flex; flex-wrap: wrap; align-items: center;
                                        gap: 12px; }
        .view.picture .overlay { position: absolute; inset: 0; pointer-events: none; }
        .view.picture .overlay > * { pointer-events: auto; }
        .controls { display: flex; align-items: flex-end; gap: 12px; border-radius: 8px; }
        .view.picture .controls { position: absolute; left: 8px; right: 8px; bottom: 8px;
                                  justify-content: space-between; pointer-events: none; }
        .view.picture .controls > * { pointer-events: auto; }
        .pad { display: grid; grid-template-columns: repeat(3, 44px);
               grid-template-rows: repeat(3, 44px); gap: 2px; }
        .zoom { display: flex; flex-direction: column; gap: 6px; }
        button.ptz {
          width: 44px; height: 44px; padding: 0; border: none; border-radius: 50%;
          display: flex; align-items: center; justify-content: center; cursor: pointer;
          touch-action: none; user-select: none; -webkit-user-select: none;
          -webkit-touch-callout: none;
          background: rgba(0, 0, 0, 0.55); color: #fff;
          box-shadow: 0 0 0 1px rgba(255, 255, 255, 0.7); /* readable on a dark picture too */
        }
        .view:not(.picture) button.ptz { background: var(--secondary-background-color, #eee);
                                         color: var(--primary-text-color); box-shadow: none; }
        button.ptz.held { background: var(--primary-color); color: var(--text-primary-color, #fff); }
        button.ptz svg { width: 24px; height: 24px; }
        select.presets {
          font: inherit; padding: 6px 8px; border-radius: 8px; max-width: 60%;
          border: 1px solid var(--divider-color, #ccc);
          background: var(--card-background-color, #fff); color: var(--primary-text-color);
        }
        .view.picture select.presets { position: absolute; top: 8px; right: 8px;
                                       background: rgba(0, 0, 0, 0.55); color: #fff;
                                       border-color: transparent; }
        .view.picture select.presets option { color: #000; background: #fff; }
        .ptz-message { min-height: 1.2em; color: var(--error-color, #db4437); font-size: 0.9em; }
        .ptz-message:empty { display: none; }
        [hidden] { display: none !important; }
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
        ${this._showsCamera ? this._viewHtml() : ""}
        <button type="button" class="talk">
          <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12,2A3,3 0 0,1 15,5V11A3,3 0 0,1 12,14A3,3 0 0,1 9,11V5A3,3 0 0,1 12,2M19,11C19,14.53 16.39,17.44 13,17.93V21H11V17.93C7.61,17.44 5,14.53 5,11H7A5,5 0 0,0 12,16A5,5 0 0,0 17,11H19Z"/></svg>
          <span class="label"></span>
        </button>
        <div class="meter" role="meter" aria-valuemin="0" aria-valuemax="100"><div></div></div>
        <div class="message" role="status" aria-live="polite"></div>
      </ha-card>`;
    if (this._showsCamera) this._bindView();
    const button = this.shadowRoot.querySelector("button.talk");
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
    if (!root || !root.querySelector("button.talk") || !this._hass) return;
    if (this._showsCamera) this._updateView();
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
    const button = root.querySelector("button.talk");
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

  // --- the camera: picture, PTZ arrows and presets ---------------------------------------------

  _viewHtml() {
    const c = this._config;
    const arrow = ([command, angle]) =>
      `<button type="button" class="ptz" data-command="${command}">` +
      `<svg viewBox="0 0 24 24" aria-hidden="true" style="transform: rotate(${angle}deg)">` +
      `<path d="${ARROW_PATH}"/></svg></button>`;
    const pad = PAD.map((cell) => (cell ? arrow(cell) : "<span></span>")).join("");
    const zoom = ZOOM.map(
      (command) =>
        `<button type="button" class="ptz" data-command="${command}">` +
        `<svg viewBox="0 0 24 24" aria-hidden="true"><path d="${ZOOM_PATHS[command]}"/></svg>` +
        "</button>",
    ).join("");
    return `
      <div class="view${c.show_picture ? " picture" : ""}">
        ${c.show_picture ? '<div class="stream"></div>' : ""}
        <div class="overlay">
          ${
            c.show_ptz
              ? `<div class="controls" role="group" tabindex="0" hidden>
                   <div class="pad">${pad}</div><div class="zoom">${zoom}</div>
                 </div>`
              : ""
          }
          ${c.show_presets ? '<select class="presets" hidden></select>' : ""}
        </div>
      </div>
      <div class="ptz-message" role="status" aria-live="polite"></div>`;
  }

  _bindView() {
    const root = this.shadowRoot;
    if (this._config.show_ptz) {
      for (const command of [...PAD.filter(Boolean).map(([cmd]) => cmd), ...ZOOM]) {
        const button = root.querySelector(`button[data-command="${command}"]`);
        button.addEventListener("pointerdown", (ev) => this._onPtzPointerDown(ev, command));
        for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
          button.addEventListener(type, () => this._ptzRelease("pointer"));
        }
        button.addEventListener("contextmenu", (ev) => ev.preventDefault());
      }
      const controls = root.querySelector(".controls");
      controls.addEventListener("keydown", (ev) => this._onPtzKeyDown(ev));
      controls.addEventListener("keyup", (ev) => this._onPtzKeyUp(ev));
    }
    if (this._config.show_presets) {
      const select = root.querySelector("select.presets");
      select.addEventListener("change", () => this._gotoPreset(select));
      select.addEventListener("focus", () => this._loadPtz(true));
    }
  }

  _updateView() {
    const root = this.shadowRoot;
    const cameraId = this._cameraId;
    const stateObj = this._hass.states[cameraId];
    const c = this._config;
    if (c.show_picture) this._updatePicture(root.querySelector(".stream"), stateObj);
    if ((c.show_ptz || c.show_presets) && this._ptzFor !== cameraId) this._loadPtz(false);
    const ptz = this._ptzFor === cameraId ? this._ptz : null;
    const canMove = Boolean(ptz) && ptz.can_move !== false && Boolean(stateObj);
    let message = this._ptzMessage;
    if (!cameraId) message = this._t("no_camera");
    else if (!stateObj) message = this._t("entity_missing", { entity: cameraId });
    else if (ptz && ptz.can_move === false && (c.show_ptz || c.show_presets)) {
      message = message || this._t("cannot_move", { name: this._cameraName() });
    }
    root.querySelector(".ptz-message").textContent = message;
    if (c.show_ptz) {
      const controls = root.querySelector(".controls");
      controls.hidden = !canMove;
      controls.setAttribute("aria-label", this._t("ptz_pad"));
      for (const command of [...PAD.filter(Boolean).map(([cmd]) => cmd), ...ZOOM]) {
        const button = root.querySelector(`button[data-command="${command}"]`);
        const label = this._t(`ptz_${command}`);
        button.setAttribute("aria-label", label);
        button.setAttribute("title", label);
        const held = Boolean(this._hold && this._hold.command === command);
        button.setAttribute("aria-pressed", String(held));
        button.classList.toggle("held", held);
      }
    }
    if (c.show_presets) this._updatePresets(root.querySelector("select.presets"), canMove, ptz);
  }

  _updatePicture(slot, stateObj) {
    if (!stateObj) return;
    if (this._picture === null) {
      this._picture = { element: null, stateObj: null };
      const picture = this._picture;
      cameraStreamReady().then((ready) => {
        if (this._picture !== picture) return; // the config changed meanwhile
        let element;
        if (ready) {
          element = document.createElement(CAMERA_STREAM_TAG);
          element.muted = true;
          element.setAttribute("muted", "");
        } else {
          element = document.createElement("img");
          element.className = "still";
        }
        picture.element = element;
        slot.appendChild(element);
        this._update();
      });
      return;
    }
    const element = this._picture.element;
    if (!element) return;
    element.setAttribute("aria-label", this._t("picture", { name: this._cameraName() }));
    if (element.tagName && element.tagName.toLowerCase() === "img") {
      const src = stateObj.attributes.entity_picture;
      if (src && element.getAttribute("src") !== src) element.setAttribute("src", src);
      return;
    }
    element.hass = this._hass; // older frontends; newer ones take it from the page's context
    if (this._picture.stateObj !== stateObj) {
      this._picture.stateObj = stateObj;
      element.stateObj = stateObj;
    }
  }

  _updatePresets(select, canMove, ptz) {
    const presets = (ptz && ptz.presets) || [];
    select.hidden = !canMove;
    select.setAttribute("aria-label", this._t("preset_goto"));
    const options = [[" ", presets.length ? this._t("presets") : this._t("no_presets")]].concat(
      presets.map((p) => [String(p.id), p.name || String(p.id)]),
    );
    const html = options
      .map(([value, label]) => `<option value="${escapeHtml(value.trim())}">${escapeHtml(label)}</option>`)
      .join("");
    if (select.dataset.html !== html) {
      select.dataset.html = html;
      select.innerHTML = html;
    }
    select.disabled = presets.length === 0;
  }

  // The camera's PTZ answer (can it move, its presets); asked once per camera, and again when
  // the preset picker gets focus.
  async _loadPtz(refresh) {
    const cameraId = this._cameraId;
    if (!this._hass || !this._hass.connection || !cameraId) return;
    if (!refresh) {
      this._ptzFor = cameraId;
      this._ptz = null;
    }
    try {
      const answer = await this._hass.connection.sendMessagePromise({
        type: `${DOMAIN}/ptz/presets`,
        entity_id: cameraId,
      });
      if (this._cameraId !== cameraId) return;
      this._ptz = answer;
      this._ptzFor = cameraId;
    } catch (err) {
      if (this._cameraId !== cameraId) return;
      this._ptzMessage = this._ptzDescribe(err, "ptz_failed");
    }
    this._update();
  }

  async _gotoPreset(select) {
    const preset = Number(select.value);
    select.value = "";
    if (!preset || !this._hass) return;
    this._ptzMessage = "";
    this._update();
    try {
      await this._hass.callService(DOMAIN, PRESET_SERVICE, {
        entity_id: this._cameraId,
        action: "goto",
        preset,
      });
    } catch (err) {
      this._ptzMessage = this._ptzDescribe(err, "preset_failed");
      this._update();
    }
  }

  _ptzDescribe(err, fallback) {
    if (err && typeof err === "object" && err.code === "unauthorized") {
      return this._t("unauthorized", { entity: this._cameraName() });
    }
    const key = err && (err.translation_key || (err.error && err.error.translation_key));
    const own = SERVER_KEYS[key];
    if (own) return this._t(own, { name: this._cameraName(), entity: this._cameraId });
    const message = (err && (err.message || (err.error && err.error.message))) || String(err);
    return this._t(fallback, { error: message });
  }

  _onPtzPointerDown(ev, command) {
    if (ev.button !== 0 && ev.pointerType === "mouse") return;
    ev.preventDefault();
    try {
      ev.currentTarget.setPointerCapture(ev.pointerId);
    } catch (_err) {
      // capture is best effort (a synthetic pointer has none)
    }
    if (ev.currentTarget.focus) ev.currentTarget.focus({ preventScroll: true });
    this._ptzStart(command, "pointer");
  }

  _onPtzKeyDown(ev) {
    let command = PAD_KEYS[ev.key];
    if (!command && (ev.key === " " || ev.key === "Enter")) {
      command = ev.target && ev.target.dataset && ev.target.dataset.command;
    }
    if (!command) return;
    ev.preventDefault();
    if (ev.repeat) return;
    this._ptzStart(command, ev.key);
  }

  _onPtzKeyUp(ev) {
    if (this._hold && this._hold.key === ev.key) {
      ev.preventDefault();
      this._ptzRelease(ev.key);
    }
  }

  _ptzRelease(key) {
    if (this._hold && this._hold.key === key) this._ptzEnd();
  }

  // A held arrow: a subscription the card ends; never re-sent after a reconnect.
  _ptzStart(command, key) {
    if (!this._hass || !this._hass.connection || !this._cameraId) return;
    if (this._hold) {
      if (this._hold.command === command && this._hold.key === key) return;
      this._ptzEnd();
    }
    const connection = this._hass.connection;
    const hold = { command, key, unsub: null, released: false, connection, onDisconnect: null };
    this._hold = hold;
    this._ptzMessage = "";
    this.ptzStats = { pressedAt: performance.now(), movingAt: null, releasedAt: null, stoppedAt: null };
    // A lost connection ends the hold: the integration stops the camera when it closes.
    hold.onDisconnect = () => {
      if (this._hold === hold) {
        this._ptzMessage = this._t("disconnected");
        this._ptzEnd();
      }
    };
    connection.addEventListener("disconnected", hold.onDisconnect);
    connection
      .subscribeMessage(
        (event) => this._onPtzEvent(hold, event),
        { type: `${DOMAIN}/ptz/hold`, entity_id: this._cameraId, command },
        { resubscribe: false },
      )
      .then((unsub) => {
        if (hold.released) unsub().catch(() => {}); // released meanwhile
        else hold.unsub = unsub;
      })
      .catch((err) => {
        hold.released = true; // refused: nothing moves
        if (this._hold === hold) this._ptzEnd();
        this._ptzMessage = this._ptzDescribe(err, "ptz_failed");
        this._update();
      });
    this._update();
  }

  _onPtzEvent(hold, event) {
    if (event.event === "moving") {
      if (hold === this._hold) this.ptzStats.movingAt = performance.now();
    } else if (event.event === "stopped") {
      // The integration ended the hold (its time limit): the arrow is released.
      if (hold === this._hold) this.ptzStats.stoppedAt = performance.now();
      this._ptzEnd(hold);
    } else if (event.event === "error") {
      this._ptzEnd(hold);
      this._ptzMessage = this._ptzDescribe(
        { translation_key: event.code, message: event.message },
        "ptz_failed",
      );
      this._update();
    }
  }

  _ptzEnd(hold = this._hold) {
    if (!hold) return;
    if (this._hold === hold) {
      this._hold = null;
      this.ptzStats.releasedAt = performance.now();
    }
    hold.released = true;
    if (hold.onDisconnect) {
      hold.connection.removeEventListener("disconnected", hold.onDisconnect);
      hold.onDisconnect = null;
    }
    const unsub = hold.unsub;
    hold.unsub = null;
    if (unsub) unsub().catch(() => {}); // the connection may be gone: the server stops then
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
      { name: "show_picture", selector: { boolean: {} } },
      { name: "show_ptz", selector: { boolean: {} } },
      { name: "show_presets", selector: { boolean: {} } },
      {
        name: "camera",
        selector: { entity: { filter: { domain: "camera", integration: DOMAIN } } },
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
        if (!config.camera) delete config.camera;
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
