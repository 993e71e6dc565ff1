// The chat's message validation: every field, every limit, every way a frame can be wrong.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ChatError,
  checkName,
  checkRoom,
  checkText,
  DEFAULT_LIMITS,
  parseClientMessage,
} from '../../src/chat/protocol.js';

function parse(value: unknown, isBinary = false) {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return parseClientMessage(Buffer.from(text), isBinary);
}

function refused(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ChatError, `expected a ChatError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (message !== undefined) assert.match(err.message, message);
    return true;
  });
}

describe('parseClientMessage', () => {
  it('accepts join, message and leave, normalized', () => {
    assert.deepEqual(parse({ type: 'join', room: ' Lobby ', name: '  Ada   Lovelace ' }), {
      type: 'join',
      room: 'lobby',
      name: 'Ada Lovelace',
      session: undefined,
      stream: undefined,
    });
    assert.deepEqual(parse({ type: 'join', room: 'r', name: 'n', session: 'abcdef0123456789' }), {
      type: 'join',
      room: 'r',
      name: 'n',
      session: 'abcdef0123456789',
      stream: undefined,
    });
    assert.equal(parse({ type: 'join', room: 'r', name: 'n', stream: true }).type, 'join');
    assert.deepEqual(parse({ type: 'join', room: 'r', name: 'n', stream: true }), {
      type: 'join',
      room: 'r',
      name: 'n',
      session: undefined,
      stream: true,
    });
    assert.deepEqual(parse({ type: 'message', text: '  two\r\nlines\t!  ' }), {
      type: 'message',
      text: 'two\nlines\t!',
    });
    assert.deepEqual(parse({ type: 'leave' }), { type: 'leave' });
  });

  it('ignores fields that are not in the schema', () => {
    assert.deepEqual(parse({ type: 'message', text: 'hi', color: 'red', extra: { a: 1 } }), {
      type: 'message',
      text: 'hi',
    });
  });

  it('refuses what is not JSON text: bad_json', () => {
    refused(() => parse('not json'), 'bad_json', /not valid JSON/);
    refused(() => parse('{"type":"message",'), 'bad_json');
    refused(() => parse(''), 'bad_json');
    refused(() => parse({ type: 'leave' }, true), 'bad_json', /binary/);
  });

  it('refuses JSON that is not a message of the schema: bad_message', () => {
    for (const value of ['[]', 'null', '42', '"join"', '{}', '{"type":7}']) {
      refused(() => parse(value), 'bad_message');
    }
    refused(() => parse({ type: 'shout' }), 'bad_message', /Unknown message type "shout"/);
    refused(() => parse({ type: 'x'.repeat(5000) }), 'bad_message', /^.{0,120}$/);
    refused(() => parse({ type: 'join', room: 'a', name: 'b', session: 'short' }), 'bad_message');
    refused(() => parse({ type: 'join', room: 'a', name: 'b', stream: 'yes' }), 'bad_message');
    refused(() => parse({ type: 'join', room: 'a', name: 'b', session: 'has spaces in it' }), 'bad_message');
  });

  it('refuses a frame over limits.messageBytes before parsing it: too_large', () => {
    const big = JSON.stringify({ type: 'message', text: 'x'.repeat(DEFAULT_LIMITS.messageBytes) });
    refused(() => parse(big), 'too_large', /at most 8192/);
    const limits = { ...DEFAULT_LIMITS, messageBytes: 10 };
    refused(() => parseClientMessage(Buffer.from('{"type":"leave"}'), false, limits), 'too_large');
    // Exactly at the limit is not too large: it goes on to be parsed.
    refused(() => parseClientMessage(Buffer.from('{"type":1}'), false, limits), 'bad_message');
  });
});

describe('checkRoom', () => {
  it('lowercases and accepts letters, digits, - and _', () => {
    assert.equal(checkRoom('Lobby'), 'lobby');
    assert.equal(checkRoom('team-42_b'), 'team-42_b');
    assert.equal(checkRoom('x'.repeat(32)), 'x'.repeat(32));
  });

  it('refuses anything else: bad_room', () => {
    for (const room of [
      '',
      '   ',
      '-lead',
      '_x',
      'with space',
      'ü',
      '../etc',
      'a/b',
      'x'.repeat(33),
      7,
      null,
    ]) {
      refused(() => checkRoom(room), 'bad_room');
    }
  });
});

describe('checkName', () => {
  it('trims, joins inner spaces, keeps any script and emoji', () => {
    assert.equal(checkName('  Grace \t Hopper '), 'Grace Hopper');
    assert.equal(checkName('李小龙'), '李小龙');
    assert.equal(checkName('👩‍💻 dev'), '👩‍💻 dev');
    assert.equal(checkName('<b>Eve</b>'), '<b>Eve</b>'); // shown as text by the page, never as HTML
  });

  it('counts characters, not UTF-16 units', () => {
    assert.equal(checkName('😀'.repeat(24)), '😀'.repeat(24));
    refused(() => checkName('😀'.repeat(25)), 'bad_name', /at most 24/);
  });

  it('refuses empty, too long, control and bidi-override characters: bad_name', () => {
    for (const name of [
      '',
      '   ',
      'x'.repeat(25),
      'a\u0000b',
      'a\u0007',
      'evil\u202egnp',
      'a\u2066b',
      1,
      {},
    ]) {
      refused(() => checkName(name), 'bad_name');
    }
  });

  it('normalizes to NFC', () => {
    assert.equal(checkName('Zoe\u0308'), 'Zo\u00eb');
    assert.equal(checkName('Zoë'), 'Zoë');
  });

  it('refuses format and other invisible characters: bad_name', () => {
    for (const name of [
      'Ada\u200b', // zero-width space
      'Ada\u00ad', // soft hyphen
      'A\u200cda', // zero-width non-joiner
      'Ada\u200d', // zero-width joiner, not inside an emoji
      'Ada\u200e', // left-to-right mark
      'Ada\u061c', // Arabic letter mark
      'Ada\u2060', // word joiner
      'Ada\ufeff', // BOM
      '\ufeffAda',
      'Ada\ufe0f', // a variation selector after a letter
      'Ada\u{e0100}', // a variation selector supplement
      'Ada\u034f', // combining grapheme joiner
      'Ada\u3164', // Hangul filler
      'Ada\u115f',
      'Ada\u180e', // Mongolian vowel separator
      'Ada\u{e0041}', // a tag, not in a flag
      'Ada\u2028',
      '\u2800', // Braille blank
      'Ada\ue000', // private use
      'Ada\ud800', // a lone surrogate
      '\u0301\u0301', // nothing to see
      'Z\u0301\u0302\u0303\u0304\u0305\u0306', // marks piled up
    ]) {
      refused(() => checkName(name), 'bad_name', undefined);
    }
  });

  it('keeps the invisible characters emoji need', () => {
    for (const name of [
      'Ada ❤️',
      '👩‍💻',
      '👨🏽‍🚀 Neil',
      '🏴\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}',
      '1️⃣',
    ]) {
      assert.equal(checkName(name), name);
    }
  });

  it('accepts names in any script', () => {
    for (const name of ['Zoë', '李雷', 'Анна', 'Ἀλέξανδρος', 'नमस्ते', 'محمد', 'Nguyễn Thị', '김민준']) {
      assert.equal(checkName(name), name.normalize('NFC'));
    }
  });
});

describe('checkText', () => {
  it('keeps line breaks and tabs, trims the ends', () => {
    assert.equal(checkText('\n  a\n\tb  \n'), 'a\n\tb');
    assert.equal(checkText('x'.repeat(1000)), 'x'.repeat(1000));
  });

  it('refuses empty, too long and control characters: bad_text', () => {
    refused(() => checkText('   \n '), 'bad_text', /empty/);
    refused(() => checkText('x'.repeat(1001)), 'bad_text', /too long: 1001 characters, at most 1000/);
    refused(() => checkText('bell\u0007'), 'bad_text', /control/);
    refused(() => checkText(['array']), 'bad_text');
  });

  it('follows the limits given', () => {
    const limits = { ...DEFAULT_LIMITS, textLength: 3 };
    assert.equal(checkText('abc', limits), 'abc');
    refused(() => checkText('abcd', limits), 'bad_text', /at most 3/);
  });
});
