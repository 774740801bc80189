// The version-2 socket (/ws/, one per user): the same lifecycle as the
// version-1 RoomSocket (back-off, close codes, logged-out check), but ready
// at `hello`, and rooms are resumed with `sync` (per room `since`) by the
// caller from onReady(hello).
import { RoomSocket, State } from "./socket.js";

export { State };

export class UserSocket extends RoomSocket {
  constructor(options) {
    super({ ...options, since: () => null });
  }

  receive(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (frame.type === "hello") {
      this.hello = frame;
      this.ready = true;
      this.retries = 0;
      this.options.onState(State.ONLINE, {});
      this.options.onReady(frame);
    } else {
      this.options.onFrame(frame);
    }
  }
}
