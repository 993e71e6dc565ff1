// All case groups, in Autobahn order.
import type { CaseGroup } from '../case.js';
import { autofragmentation } from './autofragmentation.js';
import { closeGroup } from './close.js';
import { fragmentation } from './fragmentation.js';
import { framing } from './framing.js';
import { large } from './large.js';
import { opcodes } from './opcodes.js';
import { pingPongGroup } from './ping-pong.js';
import { reservedBits } from './reserved-bits.js';
import { utf8 } from './utf8.js';

export const groups: CaseGroup[] = [
  framing,
  pingPongGroup,
  reservedBits,
  opcodes,
  fragmentation,
  utf8,
  closeGroup,
  large,
  autofragmentation,
];
