import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LATIN_LOOKALIKES } from '../../src/chat/confusables.js';
import { nameSkeleton } from '../../src/chat/name-skeleton.js';

describe('nameSkeleton', () => {
  it('gives look-alikes the same skeleton', () => {
    const groups = [
      ['Ada', 'ADA', 'ada', '\u0410da', 'Ad\u0430', '\u0391da', '\uff21\uff44\uff41', 'Ádá', '\u{1d400}da'],
      ['Paypal', 'PayPaI', 'Paypa1', '\u0420aypal'],
      ['Bob', 'B0b', '\u0392\u03bfb'],
      ['Emma', 'Ernrna'],
      ['Jean-Luc', 'Jean\u2010Luc', 'Jean\u2013Luc'],
      ["O'Brien", 'O\u2019Brien', '0\u2019Brien'],
      ['Home', '\u041d\u041e\u041c\u0415'],
    ];
    for (const group of groups) {
      for (const name of group)
        assert.equal(nameSkeleton(name), nameSkeleton(group[0]), `${name} ~ ${group[0]}`);
    }
  });

  it('keeps different names apart, in any script', () => {
    const names = [
      'Ada',
      'Adam',
      'Zoë',
      'Zoey',
      '李雷',
      '李磊',
      'Анна',
      'Anna',
      'Ἀλέξανδρος',
      'राम',
      'रम',
      '김민준',
    ];
    assert.equal(new Set(names.map(nameSkeleton)).size, names.length);
  });

  it('maps each look-alike to one ASCII letter', () => {
    assert.ok(LATIN_LOOKALIKES.size > 60);
    for (const [from, to] of LATIN_LOOKALIKES) {
      assert.match(to, /^[A-Za-z]$/, from);
      assert.ok(from.codePointAt(0)! > 0x7f, from);
    }
  });
});
