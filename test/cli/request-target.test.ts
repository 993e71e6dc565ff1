import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { requestPath } from '../../src/cli/request-target.js';

describe('requestPath', () => {
  it('reads the path of origin-form and absolute-form targets', () => {
    assert.equal(requestPath('/'), '/');
    assert.equal(requestPath('/room1'), '/room1');
    assert.equal(requestPath('/room1?x=1#y'), '/room1');
    assert.equal(requestPath('/a/../b'), '/a/../b');
    assert.equal(requestPath('ws://host:8080/room?x'), '/room');
    assert.equal(requestPath('HTTP://host'), '/');
    assert.equal(requestPath('http://host?q'), '/');
  });

  it('takes the targets that make new URL() throw as paths, or as absolute targets', () => {
    assert.equal(requestPath('//'), '//');
    assert.equal(requestPath('//@'), '//@');
    assert.equal(requestPath('//x:99999/'), '//x:99999/');
    assert.equal(requestPath('http://['), '/');
    assert.equal(requestPath('http://[/x'), '/x');
  });

  it('has no path for targets of neither form', () => {
    for (const target of ['*', '', 'room', 'http:/x', '?q']) assert.equal(requestPath(target), null, target);
  });

  it('never throws, and a path it returns starts with /', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (target) => {
        const path = requestPath(target);
        return path === null || (path.startsWith('/') && !/[?#]/.test(path));
      }),
    );
  });
});
