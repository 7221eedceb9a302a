import {
  CONTENT_TYPE_FIELD,
  CONTENT_TYPE_JSON,
  DATA_FIELD,
  METADATA_FIELD,
} from '../redis-streams.constants.js';

/** Field map of a stream entry, as `XRANGE` shows it. */
export type StreamFields = Record<string, string>;

/** What an entry turned out to be. */
export type DecodedEntry =
  | { readonly kind: 'envelope'; readonly data: unknown; readonly metadata: Record<string, unknown> | undefined }
  | { readonly kind: 'fields'; readonly data: StreamFields }
  | { readonly kind: 'undecodable'; readonly reason: string };

/**
 * Turns an outgoing payload into the flat field list `XADD` takes.
 *
 * @param data - what the application emitted; must survive `JSON.stringify`
 * @param metadata - packet metadata set by a dispatch hook, if any
 * @throws TypeError when the payload cannot be JSON-encoded (cycles, BigInt)
 */
export function encodeEntry(data: unknown, metadata?: Record<string, unknown>): string[] {
  const json = JSON.stringify(data);
  if (json === undefined) {
    throw new TypeError(`payload of type ${typeof data} cannot be JSON-encoded`);
  }
  const fields = [CONTENT_TYPE_FIELD, CONTENT_TYPE_JSON, DATA_FIELD, json];
  if (metadata !== undefined && Object.keys(metadata).length > 0) {
    fields.push(METADATA_FIELD, JSON.stringify(metadata));
  }
  return fields;
}

/** Builds the field map from the flat `[field, value, ...]` list Redis returns. */
export function toFieldMap(flat: readonly string[]): StreamFields {
  const map: StreamFields = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    map[flat[i] as string] = flat[i + 1] as string;
  }
  return map;
}

/**
 * Decodes an entry from its field map: ours (marked by the content type) are
 * JSON-decoded; anyone else's are handed over as the field map, even when a
 * field is called `data`.
 */
export function decodeEntry(fields: StreamFields): DecodedEntry {
  if (fields[CONTENT_TYPE_FIELD] !== CONTENT_TYPE_JSON) {
    return { kind: 'fields', data: fields };
  }
  return decodeEnvelope(fields[DATA_FIELD], fields[METADATA_FIELD]);
}

/**
 * Same as {@link decodeEntry}, from the flat list Redis returns, without
 * building a field map for our own entries (the hot path).
 */
export function decodeFlat(flat: readonly string[]): DecodedEntry {
  let contentType: string | undefined;
  let data: string | undefined;
  let metadata: string | undefined;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i];
    if (name === CONTENT_TYPE_FIELD) contentType = flat[i + 1];
    else if (name === DATA_FIELD) data = flat[i + 1];
    else if (name === METADATA_FIELD) metadata = flat[i + 1];
  }
  if (contentType !== CONTENT_TYPE_JSON) {
    return { kind: 'fields', data: toFieldMap(flat) };
  }
  return decodeEnvelope(data, metadata);
}

function decodeEnvelope(json: string | undefined, metadataJson: string | undefined): DecodedEntry {
  if (json === undefined) {
    return { kind: 'undecodable', reason: `entry is marked ${CONTENT_TYPE_JSON} but has no "${DATA_FIELD}" field` };
  }
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (error) {
    return { kind: 'undecodable', reason: `"${DATA_FIELD}" is not valid JSON (${(error as Error).message})` };
  }
  if (metadataJson === undefined) {
    return { kind: 'envelope', data, metadata: undefined };
  }
  try {
    const metadata: unknown = JSON.parse(metadataJson);
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
      return { kind: 'undecodable', reason: `"${METADATA_FIELD}" is not a JSON object` };
    }
    return { kind: 'envelope', data, metadata: metadata as Record<string, unknown> };
  } catch (error) {
    return { kind: 'undecodable', reason: `"${METADATA_FIELD}" is not valid JSON (${(error as Error).message})` };
  }
}
