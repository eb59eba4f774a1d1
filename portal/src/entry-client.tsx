import { mount, StartClient } from "@solidjs/start/client";

const root = document.getElementById("app");
if (!root) throw new Error("the server document has no #app element");
mount(() => <StartClient />, root);
