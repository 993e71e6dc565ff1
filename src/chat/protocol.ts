/**
 * The chat's messages (docs/chat.md): JSON text frames, one object each, told apart by `type`.
 * parseClientMessage() is the only way a client's bytes become a ClientMessage: it checks the size,
 * the JSON, the type and every field, and says what is wrong in a ChatError the client is sent.
 */

/** The limits a server enforces; sent to the page in `welcome` so that it can show them. */
export interface ChatLimits {
  /** Largest message accepted from a client, in bytes of UTF-8. Bigger ones get `too_large`. */
  messageBytes: number;
  /** Longest name, in characters (code points), after trimming. */
  nameLength: number;
  /** Longest room name, in characters. */
  roomLength: number;
  /** Longest chat message text, in characters, after trimming. */
  textLength: number;
}

export const DEFAULT_LIMITS: ChatLimits = {
  messageBytes: 8 * 1024,
  nameLength: 24,
  roomLength: 32,
  textLength: 1000,
};

/** What a client may send. */
export type ClientMessage =
  | {
      type: 'join';
      room: string;
      name: string;
      /** A random token the page keeps for the tab: a join with it takes over the name it holds. */
      session?: string;
      /**
       * The page reads the room's messages and notices from its durable topic (`welcome.topic`, over
       * wskit.topics.v1): this connection is then sent only welcome, users and errors.
       */
      stream?: boolean;
    }
  | { type: 'message'; text: string }
  | { type: 'leave' };

/** What the server sends. `ts` is milliseconds since the epoch (server clock). */
export type ServerMessage =
  | {
      type: 'welcome';
      room: string;
      name: string;
      users: string[];
      limits: ChatLimits;
      /** The room's durable topic: its messages and notices, with offsets, for wskit.topics.v1 clients. */
      topic: string;
      /** How many of the room's last messages the server keeps (and a newcomer can read). */
      history: number;
    }
  | { type: 'message'; id: string; room: string; name: string; text: string; ts: number }
  /** Who is online changed: the names to remove from the list `welcome` gave, then those to add. */
  | { type: 'users'; room: string; add: string[]; remove: string[] }
  | { type: 'joined'; room: string; name: string; ts: number }
  | { type: 'left'; room: string; name: string; ts: number }
  | { type: 'error'; code: ChatErrorCode; message: string };

export type ChatErrorCode =
  /** Not JSON text (or a binary frame). */
  | 'bad_json'
  /** JSON, but not a message of the schema: not an object, unknown type, a field missing or mistyped. */
  | 'bad_message'
  /** Over `limits.messageBytes`. */
  | 'too_large'
  | 'bad_name'
  | 'bad_room'
  | 'bad_text'
  /** A chat message before a join. */
  | 'not_joined'
  /** Someone else in the room on this server has that name, or one that looks the same. */
  | 'name_taken'
  /** The room has as many members on this server as it may (the server's maxRoomMembers). */
  | 'room_full'
  /** Too many messages: this one was dropped. */
  | 'rate_limited';

/** Something wrong with what a client sent: sent back as `{ type: 'error', code, message }`. */
export class ChatError extends Error {
  readonly code: ChatErrorCode;

  constructor(code: ChatErrorCode, message: string) {
    super(message);
    this.name = 'ChatError';
    this.code = code;
  }

  toMessage(): ServerMessage {
    return { type: 'error', code: this.code, message: this.message };
  }
}

const ROOM = /^[a-z0-9][a-z0-9_-]*$/;
const SESSION = /^[A-Za-z0-9_-]{8,64}$/;
/** Control characters; in text, tab and line feed are allowed. */
const TEXT_CONTROL = /[^\P{Cc}\t\n]/u;
/**
 * What a name cannot contain: control characters, format characters (zero-width space and joiners,
 * soft hyphen, bidirectional controls, the BOM...), the other default-ignorable code points (variation
 * selectors, Hangul fillers, tags...), blank characters that are not spaces, line and paragraph
 * separators, private-use, unassigned and lone surrogate code points. All are invisible, or look like
 * nothing the reader can tell apart, and would let "Ada" and "Ada\u200b" sit side by side.
 */
const NAME_FORBIDDEN = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\p{Default_Ignorable_Code_Point}\p{Zl}\p{Zp}\u2800]/u;
/**
 * The invisible characters that emoji need, where they need them, removed before NAME_FORBIDDEN is
 * checked: a variation selector after an emoji ("❤️"), the zero-width joiner between two ("👩‍💻"),
 * the tags of a subdivision flag after 🏴.
 */
const EMOJI_INVISIBLES =
  /(?<=\p{Emoji})[\ufe0e\ufe0f]|(?<=\p{Extended_Pictographic}[\u{1f3fb}-\u{1f3ff}\ufe0f]?)\u200d(?=\p{Extended_Pictographic})|(?<=\u{1f3f4}[\u{e0020}-\u{e007e}]*)[\u{e0020}-\u{e007f}]/gu;
/** A name shows at least one letter, digit, symbol or punctuation mark. */
const NAME_VISIBLE = /[\p{L}\p{N}\p{S}\p{P}]/u;
/** More combining marks in a row than any script needs: text that spills over its neighbours. */
const MARK_PILE = /\p{M}{5}/u;

function length(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** A room name: 1 to `roomLength` lowercase letters, digits, `-` and `_`, starting with a letter or digit. */
export function checkRoom(raw: unknown, limits: ChatLimits = DEFAULT_LIMITS): string {
  if (typeof raw !== 'string') throw new ChatError('bad_room', 'The room must be a string.');
  const room = raw.trim().toLowerCase();
  if (room.length === 0 || room.length > limits.roomLength || !ROOM.test(room)) {
    throw new ChatError(
      'bad_room',
      `A room name has 1 to ${limits.roomLength} letters (a-z), digits, "-" or "_", and starts with a letter or digit.`,
    );
  }
  return room;
}

/**
 * A name: NFC-normalized, trimmed, inner runs of spaces made one, 1 to `nameLength` characters, at
 * least one of them visible; no control, format or other invisible characters (NAME_FORBIDDEN), except
 * those inside emoji. Whether it is free in a room is the server's business (nameSkeleton()).
 */
export function checkName(raw: unknown, limits: ChatLimits = DEFAULT_LIMITS): string {
  if (typeof raw !== 'string') throw new ChatError('bad_name', 'The name must be a string.');
  const normalized = raw.normalize('NFC');
  // Checked before the spaces are tidied (\s would turn U+FEFF into a space); tabs and line breaks
  // become spaces there.
  if (NAME_FORBIDDEN.test(normalized.replace(EMOJI_INVISIBLES, '').replace(/[\t\n\v\f\r]/g, ' '))) {
    throw new ChatError(
      'bad_name',
      'A name cannot contain control characters or invisible ones (zero-width spaces, soft hyphens, direction marks...).',
    );
  }
  const name = normalized.trim().replace(/\s+/gu, ' ');
  if (name.length === 0) throw new ChatError('bad_name', 'Choose a name.');
  if (length(name) > limits.nameLength) {
    throw new ChatError('bad_name', `A name has at most ${limits.nameLength} characters.`);
  }
  if (!NAME_VISIBLE.test(name) || MARK_PILE.test(name)) {
    throw new ChatError('bad_name', 'A name needs letters, digits or symbols that can be seen.');
  }
  return name;
}

/** A chat message's text: trimmed, 1 to `textLength` characters; line breaks and tabs allowed. */
export function checkText(raw: unknown, limits: ChatLimits = DEFAULT_LIMITS): string {
  if (typeof raw !== 'string') throw new ChatError('bad_text', 'The text must be a string.');
  const text = raw.replace(/\r\n?/g, '\n').trim();
  if (text.length === 0) throw new ChatError('bad_text', 'The message is empty.');
  const n = length(text);
  if (n > limits.textLength) {
    throw new ChatError(
      'bad_text',
      `The message is too long: ${n} characters, at most ${limits.textLength} are allowed.`,
    );
  }
  if (TEXT_CONTROL.test(text)) {
    throw new ChatError('bad_text', 'The message contains control characters.');
  }
  return text;
}

function checkStream(raw: unknown): boolean | undefined {
  if (raw === undefined || raw === false) return undefined;
  if (raw !== true) throw new ChatError('bad_message', 'stream must be true or false.');
  return true;
}

function checkSession(raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !SESSION.test(raw)) {
    throw new ChatError('bad_message', 'session must be 8 to 64 letters, digits, "-" or "_".');
  }
  return raw;
}

/**
 * Turns a frame from a client into a ClientMessage, or throws the ChatError to send back. Fields not in
 * the schema are ignored (a newer page may send more); those in it must have the right type and size.
 */
export function parseClientMessage(
  data: Buffer,
  isBinary: boolean,
  limits: ChatLimits = DEFAULT_LIMITS,
): ClientMessage {
  if (data.length > limits.messageBytes) {
    throw new ChatError(
      'too_large',
      `The message is too large: ${data.length} bytes, at most ${limits.messageBytes} are allowed.`,
    );
  }
  if (isBinary) throw new ChatError('bad_json', 'Messages are JSON text, not binary.');
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch {
    throw new ChatError('bad_json', 'The message is not valid JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ChatError('bad_message', 'A message is a JSON object with a "type".');
  }
  const message = value as Record<string, unknown>;
  switch (message.type) {
    case 'join':
      return {
        type: 'join',
        room: checkRoom(message.room, limits),
        name: checkName(message.name, limits),
        session: checkSession(message.session),
        stream: checkStream(message.stream),
      };
    case 'message':
      return { type: 'message', text: checkText(message.text, limits) };
    case 'leave':
      return { type: 'leave' };
    default:
      throw new ChatError(
        'bad_message',
        typeof message.type === 'string'
          ? `Unknown message type "${message.type.slice(0, 32)}": expected join, message or leave.`
          : 'A message needs a "type": join, message or leave.',
      );
  }
}

export function encode(message: ServerMessage): string {
  return JSON.stringify(message);
}
