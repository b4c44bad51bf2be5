import { render } from "preact";
import { App } from "./views/shell";
import { Store } from "./store";
import "./style.css";

const url = `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws`;
const store = new Store(url);
store.start();
const root = document.getElementById("app");
if (root !== null) {
  root.textContent = "";
  render(<App store={store} />, root);
}
