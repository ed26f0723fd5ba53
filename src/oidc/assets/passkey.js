// Passkeys on the SSO's hosted pages (sign-in, second step, enrolment, account): the only script
// they load, served from the SSO itself (Content-Security-Policy: script-src 'self'). It brings
// the hidden `form[data-passkey]` forms to life: options from /oidc/passkey/options, the browser's
// WebAuthn ceremony, then the credential's JSON posted with the form. Without it (scripts off, or
// a browser without WebAuthn's JSON helpers) the forms stay hidden and the password and code forms
// work alone.
(function () {
  'use strict';
  var PKC = window.PublicKeyCredential;
  if (
    !PKC ||
    !navigator.credentials ||
    typeof PKC.parseRequestOptionsFromJSON !== 'function' ||
    typeof PKC.parseCreationOptionsFromJSON !== 'function' ||
    typeof PKC.prototype.toJSON !== 'function'
  )
    return;

  function message(error) {
    // NotAllowedError: the user cancelled, or the prompt timed out (the browser does not say which).
    if (error && error.name === 'NotAllowedError') return 'The passkey was not used. Try again when you are ready.';
    if (error && error.name === 'InvalidStateError') return 'This passkey is already registered here.';
    return (error && error.message) || 'The passkey could not be used.';
  }

  async function ceremony(form) {
    var mode = form.getAttribute('data-passkey');
    var body = new URLSearchParams();
    body.set('csrf', form.elements.csrf.value);
    body.set('mode', mode);
    var res = await fetch('/oidc/passkey/options', { method: 'POST', body: body, credentials: 'same-origin' });
    var answer = await res.json();
    if (!res.ok) throw new Error(answer.message);
    var credential =
      mode === 'login' || mode === 'second'
        ? await navigator.credentials.get({ publicKey: PKC.parseRequestOptionsFromJSON(answer.options) })
        : await navigator.credentials.create({ publicKey: PKC.parseCreationOptionsFromJSON(answer.options) });
    form.elements.passkey.value = JSON.stringify(credential.toJSON());
    form.submit();
  }

  document.querySelectorAll('form[data-passkey]').forEach(function (form) {
    var button = form.querySelector('button');
    var status = form.querySelector('[data-passkey-status]');
    form.hidden = false;
    button.addEventListener('click', function () {
      button.disabled = true;
      status.textContent = '';
      ceremony(form).catch(function (error) {
        button.disabled = false;
        status.textContent = message(error);
      });
    });
  });
})();
