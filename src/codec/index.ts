/**
 * `outbox-cache/codec`: Avro payloads in the Confluent wire format (DESIGN.md §2–§3). The codec
 * encodes and decodes framed values against a Schema Registry; the registry client is the
 * project's own (see registry-client.ts for why); the shipped schemas are read from a manifest.
 */
export type { WriterSchema, DecodedValue, PayloadDecoder } from './types.js';
export { AvroCodec, type AvroCodecOptions, type AvroDecodeOptions, type RegistryReader } from './codec.js';
export { SchemaRegistryClient, RegistryError, type SchemaRegistryClientOptions, type RegisteredSchema } from './registry-client.js';
export { encodeFrame, parseFrame, frameSchemaId, MAGIC_BYTE, FRAME_HEADER_LENGTH, MAX_SCHEMA_ID, FRAMING_ERROR_CODES, type Frame } from './framing.js';
export {
  parseAvroSchema, avroTypeName, schemaKey, invalidFields, isAvroLong, MAX_ZERO_BYTE_ITEMS,
  type AvroSchema, type AvroLong, type InvalidField,
} from './avro-types.js';
export { InvalidValueError, CODEC_ERROR_CODES, type CodecErrorCode } from './errors.js';
export {
  checkCompatibility, readProblem, isCompatibilityLevel, COMPATIBILITY_LEVELS, DEFAULT_COMPATIBILITY_LEVEL,
  type CompatibilityLevel, type CompatibilityResult,
} from './compatibility.js';
export {
  CACHE_CHANGE_SCHEMA_NAME, CACHE_CHANGE_SCHEMA_V1, isCacheChange, type CacheChange, type CacheChangeOperation,
} from './cache-change.js';
export { loadSchemaManifest, MANIFEST_FILE, type SchemaManifest, type LocalSubject, type LocalSchema } from './schema-manifest.js';
