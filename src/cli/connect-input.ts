/**
 * What a line of input to `wskit connect` means: a text message, or a command when it starts with "/".
 */
import { parseBinaryArgument } from './message-format.js';

export type InputAction =
  | { type: 'text'; text: string }
  | { type: 'binary'; data: Buffer }
  | { type: 'ping'; data: string }
  | { type: 'close'; code?: number; reason?: string }
  | { type: 'help' }
  | { type: 'invalid'; message: string };

/** The commands, for `wskit connect --help` and `/help`. */
export const INPUT_COMMANDS_HELP = `\
  /ping [DATA]            Send a Ping (DATA: text, at most 125 bytes); the
                          Pong is reported on standard error.
  /close [CODE [REASON]]  Start the closing handshake (CODE: default 1000);
                          the command exits when it completes.
  /binary DATA            Send a binary message: DATA is hex digit pairs
                          (spaces allowed: "01 ff 7e"), or else text sent
                          as its UTF-8 bytes.
  /help                   List these commands.
  //TEXT                  Send the text message "/TEXT" (the first "/" of a
                          line that starts with "//" is dropped).`;

export function parseInputLine(line: string): InputAction {
  if (!line.startsWith('/')) return { type: 'text', text: line };
  if (line.startsWith('//')) return { type: 'text', text: line.slice(1) };
  const match = /^\/(\S*)(?:\s+|$)(.*)$/s.exec(line)!;
  const [, command, arg] = match;
  switch (command) {
    case 'ping':
      return { type: 'ping', data: arg };
    case 'binary':
      return { type: 'binary', data: parseBinaryArgument(arg) };
    case 'help':
      return { type: 'help' };
    case 'close': {
      if (arg === '') return { type: 'close' };
      const [, code, reason] = /^(\S+)\s*(.*)$/s.exec(arg)!;
      if (!/^\d+$/.test(code)) {
        return {
          type: 'invalid',
          message: `usage: /close [CODE [REASON]]; the code ${code} is not a number`,
        };
      }
      return reason === ''
        ? { type: 'close', code: Number(code) }
        : { type: 'close', code: Number(code), reason };
    }
    default:
      return {
        type: 'invalid',
        message: `unknown command /${command}: type /help for the commands, or //TEXT to send text starting with "/"`,
      };
  }
}
