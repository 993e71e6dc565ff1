// The chat page. Two WebSockets to /ws on the page's own server: the chat connection (JSON messages as
// in docs/chat.md: join, say, who is online, errors) and wskit/client's (wskit.topics.v1), which reads
// the room's durable topic: its recent history when joining, then every message and notice, each
// once and in order, resumed from the last one shown after a reconnect to whichever server answers.
// Everything that comes from other people (names, rooms, text) goes into the page with textContent,
// never as HTML. Both connections reconnect by themselves, with exponential backoff and jitter; the
// chat connection joins the room again.
import { TopicsClient } from '/client/index.js';

const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 15_000;
/** A connection open this long counts as a success: the next retry starts from the shortest delay. */
const STABLE_MS = 5_000;
/** A connection closed with this code was replaced by a newer one of this page: do not fight it. */
const CLOSE_REPLACED = 4001;
/** Messages from the same person closer than this are grouped under one name. */
const GROUP_MS = 5 * 60_000;
const DEFAULT_ROOM = 'lobby';
const ROOM_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;
/** Errors that refuse a join. */
const JOIN_ERRORS = ['bad_name', 'bad_room', 'name_taken', 'room_full', 'bad_message'];

const $ = (id) => document.getElementById(id);
const ui = {
  status: $('status'),
  statusText: $('status-text'),
  statusLive: $('status-live'),
  retryButton: $('retry-button'),
  roomTitle: $('room-title'),
  joinView: $('join-view'),
  joinForm: $('join-form'),
  name: $('name'),
  room: $('room'),
  joinError: $('join-error'),
  joinButton: $('join-button'),
  chatView: $('chat-view'),
  messages: $('messages'),
  chatError: $('chat-error'),
  chatErrorText: $('chat-error-text'),
  chatErrorClose: $('chat-error-close'),
  sendForm: $('send-form'),
  text: $('text'),
  counter: $('counter'),
  sendButton: $('send-button'),
  people: $('people'),
  peopleCount: $('people-count'),
  leaveButton: $('leave-button'),
};

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });

const chat = {
  socket: null,
  /** connecting | online | reconnecting | offline */
  status: 'connecting',
  attempt: 0,
  retryTimer: 0,
  countdownTimer: 0,
  retryAt: 0,
  /** The room and name the person asked for; sent again after every reconnection. */
  wanted: null,
  /** The room and name the server welcomed us with (null when not in a room). */
  joined: null,
  /** A join was sent and not answered yet. */
  joining: false,
  /** Lets a reconnection take over the name this page holds if the server still sees the old one. */
  session: randomToken(),
  limits: { textLength: 1000, nameLength: 24, roomLength: 32, messageBytes: 8192 },
  lastSent: '',
  lastAuthor: '',
  lastTs: 0,
  unread: 0,
  /** Who is online: name → its item in the list, kept in the order of `names` (sorted). */
  people: new Map(),
  names: [],
  /** The room's durable topic, read with wskit/client: its Subscription (null when not in a room). */
  room: null,
  /** The position of the last message of the history shown when joining: those up to it go above the join notice. */
  historyEnd: null,
  /** The "You joined" notice, under which live messages are appended and above which history goes. */
  joinNotice: null,
  historyAuthor: '',
  historyTs: 0,
};

const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
const endpoint = `${scheme}//${location.host}/ws`;
/** The room's messages and notices: wskit.topics.v1, with history and resume (docs/client.md). */
const topics = new TopicsClient(endpoint, { backoff: { min: 500, max: 15_000, jitter: 0.75 } });
topics.on('error', (error) => console.warn(`wskit/client: ${error.message}`));

const nameOrder = new Intl.Collator('en', { sensitivity: 'base', numeric: true });

function randomToken() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function storage(kind) {
  try {
    return window[kind];
  } catch {
    return null; // storage disabled: the page works, it just does not remember
  }
}

// ---- the connection ----

function connect() {
  clearTimeout(chat.retryTimer);
  clearInterval(chat.countdownTimer);
  if (chat.socket !== null) return;
  const socket = new WebSocket(endpoint);
  chat.socket = socket;
  setStatus(chat.attempt === 0 ? 'connecting' : 'reconnecting', 'Connecting…');
  let openedAt = 0;
  socket.addEventListener('open', () => {
    openedAt = Date.now();
    setStatus('online');
    if (chat.wanted !== null) sendJoin();
  });
  socket.addEventListener('message', (event) => {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    receive(message);
  });
  socket.addEventListener('close', (event) => {
    if (chat.socket !== socket) return;
    chat.socket = null;
    // The backoff starts over only after a connection that lasted: a server that accepts and drops
    // connections at once is not hammered.
    if (openedAt !== 0 && Date.now() - openedAt > STABLE_MS) chat.attempt = 0;
    if (event.code === CLOSE_REPLACED) {
      setStatus('offline', 'Connected from elsewhere');
      return;
    }
    scheduleReconnect();
  });
}

function scheduleReconnect() {
  if (!navigator.onLine) {
    setStatus('offline', 'Offline');
    return;
  }
  // Exponential backoff with jitter (a random delay between a quarter of the ceiling and all of it), so
  // that the pages of a restarted server do not all come back at the same moment.
  const ceiling = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** chat.attempt);
  const delay = Math.round(ceiling / 4 + Math.random() * ((ceiling * 3) / 4));
  chat.attempt++;
  chat.retryAt = Date.now() + delay;
  chat.retryTimer = setTimeout(connect, delay);
  showCountdown();
  chat.countdownTimer = setInterval(showCountdown, 1000);
}

function showCountdown() {
  const seconds = Math.ceil((chat.retryAt - Date.now()) / 1000);
  setStatus('reconnecting', seconds > 1 ? `Reconnecting in ${seconds} s…` : 'Reconnecting…');
}

function reconnectNow() {
  if (chat.socket === null) connect();
}

function setStatus(status, text) {
  chat.status = status;
  ui.status.dataset.state = status;
  document.body.dataset.connection = status;
  const label = text ?? { online: 'Online', connecting: 'Connecting…', offline: 'Offline' }[status];
  if (ui.statusText.textContent !== label) ui.statusText.textContent = label;
  ui.retryButton.hidden = status === 'online' || status === 'connecting' || chat.socket !== null;
  ui.sendButton.disabled = status !== 'online';
  // Screen readers hear the state when it changes, not every tick of the countdown.
  const spoken = `Connection: ${status}`;
  if (ui.statusLive.textContent !== spoken) ui.statusLive.textContent = spoken;
}

function send(message) {
  if (chat.socket?.readyState !== WebSocket.OPEN) return false;
  chat.socket.send(JSON.stringify(message));
  return true;
}

function sendJoin() {
  chat.joining = true;
  send({ type: 'join', room: chat.wanted.room, name: chat.wanted.name, session: chat.session, stream: true });
}

// ---- what the server sends ----

function receive(message) {
  switch (message.type) {
    case 'welcome':
      welcome(message);
      break;
    case 'users':
      if (message.room === chat.joined?.room) changePeople(message.add, message.remove);
      break;
    case 'error':
      showError(message);
      break;
  }
}

function welcome(message) {
  chat.joining = false;
  const again = chat.joined?.room === message.room;
  chat.joined = { room: message.room, name: message.name };
  chat.wanted = { ...chat.joined };
  Object.assign(chat.limits, message.limits);
  storage('localStorage')?.setItem('wskit-chat-name', message.name);
  storage('sessionStorage')?.setItem('wskit-chat-joined', JSON.stringify(chat.joined));
  const url = new URL(location.href);
  url.searchParams.set('room', message.room);
  url.hash = '';
  history.replaceState(null, '', url);
  document.title = `#${message.room} · wskit chat`;
  ui.roomTitle.textContent = `#${message.room}`;
  ui.roomTitle.hidden = false;
  ui.text.placeholder = `Message #${message.room}`;
  ui.joinView.hidden = true;
  ui.chatView.hidden = false;
  showPeople(message.users);
  if (again) {
    addNotice('You are back online', Date.now());
  } else {
    ui.messages.replaceChildren();
    chat.lastAuthor = '';
    chat.joinNotice = addNotice(`You joined #${message.room} as ${message.name}`, Date.now());
    if (typeof message.topic === 'string') readRoom(message.topic, message.history);
    ui.text.focus();
  }
  hideError();
  updateCounter();
}

function showError(message) {
  if (chat.joining && JOIN_ERRORS.includes(message.code)) {
    // The answer to a join (perhaps after a reconnection, if someone took the name meanwhile): back to
    // the form, which says what to change.
    chat.joining = false;
    if (chat.joined !== null) leave();
    chat.wanted = null;
    ui.joinError.textContent = message.message;
    ui.joinError.hidden = false;
    (['bad_room', 'room_full'].includes(message.code) ? ui.room : ui.name).focus();
    return;
  }
  ui.chatErrorText.textContent = message.message;
  ui.chatError.hidden = false;
  ui.chatError.dataset.code = message.code;
  // The text that was refused comes back to the box, to be shortened or sent again.
  if (['bad_text', 'too_large', 'rate_limited'].includes(message.code) && ui.text.value === '') {
    ui.text.value = chat.lastSent;
    updateCounter();
  }
}

function hideError() {
  ui.chatError.hidden = true;
  ui.joinError.hidden = true;
}

// ---- the room's topic ----

/** Reads the room's durable topic: the last `history` messages, then live ones (resumed after reconnects). */
function readRoom(topic, history) {
  stopReading();
  chat.historyEnd = null;
  chat.historyAuthor = '';
  const room = topics.subscribe(topic, { history, onMessage: (m) => roomEvent(room, m) });
  chat.room = room;
  room.on('subscribed', (event) => {
    if (!event.resumed && chat.historyEnd === null)
      chat.historyEnd = { offset: event.offset, epoch: event.epoch };
  });
  room.on('gap', (gap) => {
    if (chat.room !== room) return;
    const count = gap.to !== undefined && gap.from !== undefined ? gap.to - gap.from + 1 : 0;
    let text = 'Some messages could not be loaded';
    if (gap.reason === 'epoch') text = 'The server lost the room’s history: some messages may be missing';
    else if (count > 0) text = `${count} message${count === 1 ? '' : 's'} could not be loaded`;
    addNotice(text, Date.now());
  });
}

function stopReading() {
  if (chat.room === null) return;
  void chat.room.unsubscribe();
  chat.room = null;
}

/** A message or notice of the room, in offset order, each once (wskit/client drops duplicates). */
function roomEvent(room, m) {
  if (chat.room !== room || chat.joined === null) return;
  const event = m.data;
  if (typeof event !== 'object' || event === null || typeof event.name !== 'string') return;
  const end = chat.historyEnd;
  const history = end !== null && m.epoch === end.epoch && m.offset <= end.offset;
  switch (event.type) {
    case 'message':
      if (typeof event.text === 'string') addMessage(event, m.offset, history);
      break;
    case 'joined':
    case 'left':
      // Our own arrival is the "You joined" notice already.
      if (!history && event.type === 'joined' && event.name === chat.joined.name) break;
      addNotice(`${event.name} ${event.type}`, event.ts, history ? m.offset : undefined);
      break;
  }
}

// ---- the message list ----

function isNearBottom() {
  const list = ui.messages;
  return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
}

function append(item, history = false) {
  const stick = isNearBottom();
  if (history && chat.joinNotice?.isConnected) {
    // The history goes above "You joined", in order; the list stays scrolled to the bottom.
    ui.messages.insertBefore(item, chat.joinNotice);
    if (stick) ui.messages.scrollTop = ui.messages.scrollHeight;
    return;
  }
  ui.messages.append(item);
  if (stick) ui.messages.scrollTop = ui.messages.scrollHeight;
  if (document.hidden) {
    chat.unread++;
    document.title = `(${chat.unread}) #${chat.joined.room} · wskit chat`;
  }
}

function timeElement(ts) {
  const time = document.createElement('time');
  const date = new Date(ts);
  time.dateTime = date.toISOString();
  time.title = dateFormat.format(date);
  time.textContent = timeFormat.format(date);
  return time;
}

/** Hues that look good as avatars and names; each person keeps one (FNV-1a of the name). */
const HUES = [4, 28, 45, 140, 170, 195, 215, 245, 270, 300, 330, 355];

function hueOf(name) {
  let hash = 0x811c9dc5;
  for (const char of name) hash = Math.imul(hash ^ char.codePointAt(0), 0x01000193) >>> 0;
  return HUES[hash % HUES.length];
}

function avatar(name) {
  const span = document.createElement('span');
  span.className = 'avatar';
  span.setAttribute('aria-hidden', 'true');
  span.textContent = Array.from(name)[0].toUpperCase();
  span.style.setProperty('--hue', String(hueOf(name)));
  return span;
}

function addMessage(message, offset, history) {
  const mine = message.name === chat.joined.name;
  const [lastAuthor, lastTs] = history ? ['historyAuthor', 'historyTs'] : ['lastAuthor', 'lastTs'];
  const grouped = message.name === chat[lastAuthor] && message.ts - chat[lastTs] < GROUP_MS;
  chat[lastAuthor] = message.name;
  chat[lastTs] = message.ts;

  const item = document.createElement('li');
  item.className = `message${mine ? ' mine' : ''}${grouped ? ' grouped' : ''}`;
  item.dataset.id = message.id;
  item.dataset.offset = String(offset);
  if (history) item.classList.add('history');
  item.append(avatar(message.name));
  const bubble = document.createElement('div');
  bubble.className = 'bubble';
  const meta = document.createElement('div');
  meta.className = 'meta';
  const author = document.createElement('span');
  author.className = 'author';
  author.textContent = message.name;
  author.style.setProperty('--hue', String(hueOf(message.name)));
  meta.append(author, ' ', timeElement(message.ts));
  const text = document.createElement('p');
  text.className = 'text';
  text.dir = 'auto';
  text.textContent = message.text;
  bubble.append(meta, text);
  item.append(bubble);
  append(item, history);
}

/** A notice (joins, leaves, the connection); `historyOffset` puts one from the history above "You joined". */
function addNotice(text, ts, historyOffset) {
  const history = historyOffset !== undefined;
  chat[history ? 'historyAuthor' : 'lastAuthor'] = '';
  const item = document.createElement('li');
  item.className = 'notice';
  if (history) item.dataset.offset = String(historyOffset);
  const span = document.createElement('span');
  span.textContent = text;
  item.append(span, ' · ', timeElement(ts));
  append(item, history);
  return item;
}

/** The whole list, from a welcome. */
function showPeople(users) {
  chat.people.clear();
  chat.names = [];
  ui.people.replaceChildren();
  changePeople(users, []);
}

/** Who came and went: only those items change, so a big room costs little per join. */
function changePeople(add, remove) {
  for (const name of remove) {
    const item = chat.people.get(name);
    if (item === undefined) continue;
    item.remove();
    chat.people.delete(name);
    chat.names.splice(chat.names.indexOf(name), 1);
  }
  for (const name of add) {
    if (chat.people.has(name)) continue;
    const item = personItem(name);
    const at = insertionIndex(name);
    ui.people.insertBefore(item, chat.people.get(chat.names[at]) ?? null);
    chat.names.splice(at, 0, name);
    chat.people.set(name, item);
  }
  ui.peopleCount.textContent = String(chat.names.length);
}

/** Where `name` goes in the sorted names (binary search; equal names in code point order). */
function insertionIndex(name) {
  let low = 0;
  let high = chat.names.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    const other = chat.names[mid];
    const order = nameOrder.compare(other, name) || (other < name ? -1 : 1);
    if (order < 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

function personItem(name) {
  const item = document.createElement('li');
  const label = document.createElement('span');
  label.className = 'person-name';
  label.textContent = name;
  item.append(avatar(name), label);
  if (name === chat.joined?.name) {
    item.classList.add('me');
    const you = document.createElement('span');
    you.className = 'you';
    you.textContent = '(you)';
    item.append(you);
  }
  return item;
}

// ---- the forms ----

function roomFromUrl() {
  const fromQuery = new URLSearchParams(location.search).get('room');
  const fromHash = decodeURIComponent(location.hash.slice(1));
  const room = (fromQuery || fromHash || '').trim().toLowerCase();
  return ROOM_PATTERN.test(room) ? room : '';
}

function join(event) {
  event.preventDefault();
  const name = ui.name.value.trim();
  const room = ui.room.value.trim().replace(/^#/, '').toLowerCase() || DEFAULT_ROOM;
  hideError();
  if (name === '') {
    ui.joinError.textContent = 'Choose a name.';
    ui.joinError.hidden = false;
    ui.name.focus();
    return;
  }
  chat.wanted = { room, name };
  if (chat.socket?.readyState === WebSocket.OPEN) sendJoin();
  else reconnectNow();
}

function leave() {
  send({ type: 'leave' });
  stopReading();
  chat.joinNotice = null;
  chat.joined = null;
  chat.wanted = null;
  storage('sessionStorage')?.removeItem('wskit-chat-joined');
  document.title = 'wskit chat';
  ui.roomTitle.hidden = true;
  ui.chatView.hidden = true;
  ui.joinView.hidden = false;
  ui.messages.replaceChildren();
  ui.name.focus();
}

function sendText(event) {
  event.preventDefault();
  const text = ui.text.value;
  if (text.trim() === '' || chat.joined === null) return;
  if (!send({ type: 'message', text })) return;
  chat.lastSent = text;
  ui.text.value = '';
  ui.chatError.hidden = true;
  updateCounter();
  ui.text.focus();
}

function updateCounter() {
  const length = Array.from(ui.text.value.trim()).length;
  const limit = chat.limits.textLength;
  ui.counter.hidden = length < limit - 100;
  ui.counter.textContent = `${length} / ${limit}`;
  ui.counter.classList.toggle('over', length > limit);
}

ui.joinForm.addEventListener('submit', join);
ui.sendForm.addEventListener('submit', sendText);
ui.leaveButton.addEventListener('click', leave);
ui.retryButton.addEventListener('click', reconnectNow);
ui.chatErrorClose.addEventListener('click', hideError);
ui.text.addEventListener('input', updateCounter);
ui.text.addEventListener('keydown', (event) => {
  // Enter sends; Shift+Enter (and Enter while composing with an IME) makes a new line.
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ui.sendForm.requestSubmit();
  }
});
window.addEventListener('online', reconnectNow);
window.addEventListener('offline', () => {
  if (chat.socket === null) setStatus('offline', 'Offline');
});
document.addEventListener('visibilitychange', () => {
  if (document.hidden) return;
  chat.unread = 0;
  if (chat.joined !== null) document.title = `#${chat.joined.room} · wskit chat`;
  if (chat.status === 'reconnecting') reconnectNow();
});

// ---- start ----

ui.name.value = storage('localStorage')?.getItem('wskit-chat-name') ?? '';
ui.room.value = roomFromUrl() || DEFAULT_ROOM;
try {
  // A reload of a tab that was in this room goes straight back in.
  const previous = JSON.parse(storage('sessionStorage')?.getItem('wskit-chat-joined') ?? 'null');
  if (previous !== null && previous.room === ui.room.value && typeof previous.name === 'string') {
    chat.wanted = { room: previous.room, name: previous.name };
  }
} catch {
  // nothing remembered
}
(ui.name.value === '' ? ui.name : ui.joinButton).focus();
connect();
