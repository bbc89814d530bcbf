// JSON Schema of a Standard Schema: through its own converter when it has one, else zod 3 via zod-to-json-schema.
import { zodToJsonSchema } from 'zod-to-json-schema';

/** A JSON Schema document (draft-07 shape). */
export type JsonSchema = Record<string, unknown>;

interface StandardProps {
  vendor?: string;
  jsonSchema?: { input?: (options: { target: string }) => JsonSchema };
}

function standardProps(schema: unknown): StandardProps | undefined {
  if (typeof schema !== 'object' || schema === null) return undefined;
  const props = (schema as { '~standard'?: unknown })['~standard'];
  return typeof props === 'object' && props !== null ? (props as StandardProps) : undefined;
}

function strip(schema: JsonSchema): JsonSchema {
  const { $schema: _ignored, ...rest } = schema;
  return rest;
}

/**
 * The JSON Schema of the values a schema accepts, or null when it cannot be worked out (a
 * schema library with no converter, or a schema a converter rejects). Used for the inspector's
 * generated forms; validation itself always goes through the schema.
 */
export function toJsonSchema(schema: unknown): JsonSchema | null {
  const props = standardProps(schema);
  if (!props) return null;
  try {
    if (typeof props.jsonSchema?.input === 'function') return strip(props.jsonSchema.input({ target: 'draft-07' }));
    if (props.vendor === 'zod' && typeof schema === 'object' && schema !== null && '_def' in schema) {
      return strip(
        zodToJsonSchema(schema as Parameters<typeof zodToJsonSchema>[0], { $refStrategy: 'none' }) as JsonSchema,
      );
    }
  } catch {
    return null;
  }
  return null;
}
