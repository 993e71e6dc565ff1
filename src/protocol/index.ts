export type { ExpectedUpgrade, UpgradeResponse, ValidatedUpgrade } from './client-handshake.js';
export { checkUpgradeResponse } from './client-handshake.js';
export type { ClosePayload } from './close.js';
export { decodeClosePayload, encodeClosePayload, isValidCloseCode, MAX_CLOSE_REASON_BYTES } from './close.js';
export { CloseCode, DEFAULT_MAX_PAYLOAD, Opcode, ReadyState, WEBSOCKET_GUID } from './constants.js';
export type { CodedError, ErrorCode, ErrorKind, WebSocketErrorOptions } from './errors.js';
export {
  WebSocketError,
  WebSocketRangeError,
  WebSocketSyntaxError,
  WebSocketTypeError,
} from './errors.js';
export type {
  AcceptedExtendedConnect,
  ExtendedConnectAnswer,
  Http2Headers,
  RefusedExtendedConnect,
  ValidatedExtendedConnect,
} from './extended-connect.js';
export {
  checkExtendedConnect,
  checkExtendedConnectResponse,
  extendedConnectRequest,
  extendedConnectResponse,
  isExtendedConnect,
} from './extended-connect.js';
export type { FlashPolicyOptions } from './flash-policy.js';
export { flashPolicyDocument, matchPolicyRequest, POLICY_FILE_REQUEST } from './flash-policy.js';
export { frameHeaderSize, writeFrameHeader } from './frame-header.js';
export type { FrameHandler, FrameParserOptions } from './frame-parser.js';
export { FrameParser } from './frame-parser.js';
export type { FrameOptions } from './frame-serializer.js';
export { serializeFrame } from './frame-serializer.js';
export { acceptKey, generateKey, isValidKey } from './handshake-keys.js';
export type { ExtensionOffer } from './header-tokens.js';
export {
  formatExtensions,
  headerHasToken,
  isToken,
  parseExtensions,
  parseProtocolList,
} from './header-tokens.js';
export type { Hixie76Sink } from './hixie76-framing.js';
export { frameHixie76Text, HIXIE76_CLOSING_FRAME, Hixie76Parser } from './hixie76-framing.js';
export type { AcceptedHixie76, Hixie76ResponseOptions } from './hixie76-handshake.js';
export {
  checkHixie76Request,
  hixie76Challenge,
  hixie76KeyNumber,
  hixie76Location,
  hixie76Response,
  isHixie76Request,
} from './hixie76-handshake.js';
export { Hixie76Protocol } from './hixie76-protocol.js';
export { buildErrorResponse, reasonPhrase } from './http-status.js';
export { Masker } from './mask.js';
export type { MaskGenerator } from './mask-key-source.js';
export { MaskKeySource } from './mask-key-source.js';
export { MessageAssembler } from './message-assembler.js';
export { MessageBuffer } from './message-buffer.js';
export { OutputQueue } from './output-queue.js';
export type { ProtocolHandler, ProtocolOptions, SendOptions } from './protocol.js';
export { Protocol } from './protocol.js';
export type {
  AcceptedUpgrade,
  RefusedUpgrade,
  UpgradeCheckOptions,
  UpgradeRequest,
  UpgradeResponseOptions,
} from './server-handshake.js';
export {
  checkUpgradeRequest,
  DEFAULT_VERSIONS,
  upgradeResponse,
  upgradeResponseLines,
} from './server-handshake.js';
export { isValidUtf8, Utf8Validator } from './utf8-validator.js';
