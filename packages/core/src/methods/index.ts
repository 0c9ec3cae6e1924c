export { MethodInvoker, MAX_METHOD_PAYLOAD_BYTES, type MethodInvocation } from './method-invoker.ts';
