/**
 * The error classes azure-iothub actually throws. It bundles its own copy of azure-iot-common's
 * errors (dist/common-core), so `instanceof` checks must use that copy, not azure-iot-common's.
 */
export * as serviceErrors from 'azure-iothub/dist/common-core/errors';
