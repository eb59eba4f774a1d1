/** A TCP port on 127.0.0.1 that was free a moment ago, for servers started on a fixed port. */
export { freePort } from "../net/loopbackPort.ts";
