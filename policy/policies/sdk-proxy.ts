/**
 * The SDK's unknown-value machinery. @pulumi/policy exports both at run time but strips their
 * declarations (they are marked internal), so their types are stated here, where they enter.
 */
import * as policySdk from "@pulumi/policy";

/** An error naming the property path of the unknown value, e.g. `spec.replicas`. */
export type UnknownValueError = Error & { props: string[] };

interface UnknownValueErrorClass {
  new (sentinel: string, props: string[]): UnknownValueError;
}

const runtimeExports = policySdk as unknown as {
  UnknownValueError: UnknownValueErrorClass;
  unknownCheckingProxy: <T extends object>(value: T) => T;
};

/** Thrown by the SDK's proxy when a policy reads a value that is unknown during preview. */
export const UnknownValueError: UnknownValueErrorClass = runtimeExports.UnknownValueError;

/** Wraps resource properties so that reading an unknown value throws UnknownValueError. */
export const unknownCheckingProxy = runtimeExports.unknownCheckingProxy;

/** The wire sentinel of an unknown string; the SDK treats every typed sentinel alike. */
export const unknownStringValue = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
