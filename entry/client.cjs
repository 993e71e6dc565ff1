'use strict';
// require('wskit/client'): the reconnecting wskit.topics.v1 client, from the CommonJS build (see
// index.cjs). Browsers and bundlers that ask for the "browser" condition get the ES module build of
// the same source (dist/client/), which imports nothing but itself.
module.exports = require('../dist/cjs/client/index.js');
