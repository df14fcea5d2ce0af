/* Security keys and passkeys (WebAuthn): adding one on the account page, and using one in place
   of the app's code at sign-in. The server's options and the browser's answers travel as JSON,
   binary fields in base64url (as py_webauthn reads and writes them); every POST carries the page's
   CSRF token. Without WebAuthn in the browser the sign-in button stays hidden and the account
   page says so. */
(function () {
  "use strict";

  function toBytes(value) {
    var s = value.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var raw = atob(s);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var s = "";
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function supported() {
    return !!(window.PublicKeyCredential && navigator.credentials);
  }

  function post(url, box, body) {
    var token = box.querySelector("input[name=csrfmiddlewaretoken]");
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-CSRFToken": token ? token.value : "",
        "Accept": "application/json"
      },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return { ok: false }; });
    });
  }

  function descriptors(list) {
    return (list || []).map(function (d) {
      var copy = { type: d.type, id: toBytes(d.id) };
      if (d.transports) copy.transports = d.transports;
      return copy;
    });
  }

  function say(box, text) {
    var el = box.querySelector("#security-key-message");
    if (el) el.textContent = text || "";
  }

  // --- the account page: add a key ---
  var addForm = document.getElementById("security-key-add-form");
  if (addForm) {
    addForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!supported()) { say(addForm, addForm.dataset.unsupported); return; }
      var button = addForm.querySelector("button[type=submit]");
      var name = addForm.querySelector("input[name=name]");
      button.disabled = true;
      say(addForm, "");
      post(addForm.dataset.optionsUrl, addForm, { name: name.value })
        .then(function (answer) {
          if (!answer.ok) throw new Error(answer.message || addForm.dataset.failed);
          var o = answer.options;
          o.challenge = toBytes(o.challenge);
          o.user.id = toBytes(o.user.id);
          o.excludeCredentials = descriptors(o.excludeCredentials);
          return navigator.credentials.create({ publicKey: o });
        })
        .then(function (credential) {
          var r = credential.response;
          return post(addForm.dataset.verifyUrl, addForm, {
            credential: {
              id: credential.id,
              rawId: toText(credential.rawId),
              type: credential.type,
              authenticatorAttachment: credential.authenticatorAttachment || undefined,
              response: {
                clientDataJSON: toText(r.clientDataJSON),
                attestationObject: toText(r.attestationObject),
                transports: r.getTransports ? r.getTransports() : []
              }
            }
          });
        })
        .then(function (answer) {
          if (!answer.ok) throw new Error(answer.message || addForm.dataset.failed);
          window.location.assign(answer.next);
        })
        .catch(function (error) {
          button.disabled = false;
          // The browser's own errors (cancelled, timed out) are in English: say ours instead.
          say(addForm, error && error.name === "Error" && error.message ? error.message : addForm.dataset.failed);
        });
    });
  }

  // --- the code step of sign-in: use a key instead of the code ---
  var signIn = document.getElementById("security-key-sign-in");
  if (signIn && supported()) {
    signIn.hidden = false;
    var useKey = document.getElementById("security-key-button");
    useKey.addEventListener("click", function () {
      useKey.disabled = true;
      say(signIn, "");
      post(signIn.dataset.optionsUrl, signIn, {})
        .then(function (answer) {
          if (!answer.ok) throw new Error(answer.message || signIn.dataset.failed);
          var o = answer.options;
          o.challenge = toBytes(o.challenge);
          o.allowCredentials = descriptors(o.allowCredentials);
          return navigator.credentials.get({ publicKey: o });
        })
        .then(function (credential) {
          var r = credential.response;
          return post(signIn.dataset.verifyUrl, signIn, {
            next: signIn.dataset.next,
            credential: {
              id: credential.id,
              rawId: toText(credential.rawId),
              type: credential.type,
              authenticatorAttachment: credential.authenticatorAttachment || undefined,
              response: {
                clientDataJSON: toText(r.clientDataJSON),
                authenticatorData: toText(r.authenticatorData),
                signature: toText(r.signature),
                userHandle: r.userHandle ? toText(r.userHandle) : undefined
              }
            }
          });
        })
        .then(function (answer) {
          if (!answer.ok) throw new Error(answer.message || signIn.dataset.failed);
          window.location.assign(answer.next);
        })
        .catch(function (error) {
          useKey.disabled = false;
          say(signIn, error && error.name === "Error" && error.message ? error.message : signIn.dataset.failed);
        });
    });
  }
})();
