/**
 * The proxy's durable audit spool and its shipper. See auditSpool.ts and
 * shipper.ts for the contracts; frames.ts for the on-disk format.
 */
export { AuditSpool, SpoolFullError, type AuditMode, type AuditSpoolOptions, type SpoolCounters } from './auditSpool.js';
export { SpoolShipper, type SpoolShipperOptions } from './shipper.js';
