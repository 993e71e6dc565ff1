'use strict';
// require('wskit/protocol'): the sans-I/O protocol core, from the CommonJS build (see index.cjs).
module.exports = require('../dist/cjs/protocol/index.js');
