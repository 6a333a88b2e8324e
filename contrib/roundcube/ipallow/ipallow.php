<?php

/**
 * ipallow: forward the browser's address to Dovecot before the IMAP login,
 * and show the reason Dovecot gives when it refuses the login.
 *
 * Part of dovecot-ipallow (per-mailbox client network allow-lists for
 * Dovecot). Written for Roundcube 1.5 and 1.6.
 *
 * 1. Address. Since Roundcube 1.5 the "ident" a plugin sets is sent after
 *    the login; only "preauth_ident" is sent before it
 *    (rcube_imap_generic::connect()). This plugin sets preauth_ident in the
 *    storage_connect hook to ("x-originating-ip" <address>), plus
 *    "x-originating-port" when the browser is Roundcube's direct TCP peer.
 *    The address is rcube_utils::remote_addr(): the TCP peer, or the
 *    X-Forwarded-For / X-Real-IP address when the peer is listed in
 *    Roundcube's proxy_whitelist. Dovecot uses it only when the Roundcube
 *    host is in its login_trusted_networks.
 *
 * 2. Reason. Roundcube shows "Login failed." for every refused login. When
 *    the IMAP server's tagged NO carried [ALERT] (dovecot-ipallow's
 *    reject_reason does), the login_failed hook shows that text instead.
 *    Any other failure keeps Roundcube's own message.
 *
 * Options (config.inc.php.dist): ipallow_forward, ipallow_show_reason.
 *
 * @license MIT
 */
class ipallow extends rcube_plugin
{
    private $rc;

    public function init()
    {
        $this->rc = rcube::get_instance();
        $this->load_config();

        $this->add_hook('storage_connect', [$this, 'storage_connect']);
        $this->add_hook('login_failed', [$this, 'login_failed']);
    }

    /**
     * storage_connect: runs before every IMAP connection (the login and
     * each later request), so every IMAP session carries the address.
     */
    public function storage_connect($args)
    {
        if (!$this->rc->config->get('ipallow_forward', true)) {
            return $args;
        }

        $ip = rcube_utils::remote_addr();
        if (!is_string($ip) || filter_var($ip, FILTER_VALIDATE_IP) === false) {
            // nothing trustworthy to forward (CLI, or a malformed header)
            return $args;
        }

        $ident = isset($args['preauth_ident']) && is_array($args['preauth_ident'])
            ? $args['preauth_ident'] : [];
        $ident['x-originating-ip'] = $ip;

        // The port is known only when the browser itself is the TCP peer;
        // behind a proxy REMOTE_PORT is the proxy's.
        if (!empty($_SERVER['REMOTE_ADDR']) && $_SERVER['REMOTE_ADDR'] === $ip
            && !empty($_SERVER['REMOTE_PORT']) && ctype_digit((string) $_SERVER['REMOTE_PORT'])
        ) {
            $ident['x-originating-port'] = (string) $_SERVER['REMOTE_PORT'];
        }
        else {
            unset($ident['x-originating-port']);
        }

        $args['preauth_ident'] = $ident;

        return $args;
    }

    /**
     * login_failed: index.php has queued "Login failed." already; a later
     * message replaces it on the login page (only the last message queued
     * before the page is initialised is shown).
     */
    public function login_failed($args)
    {
        if (!$this->rc->config->get('ipallow_show_reason', true)) {
            return $args;
        }

        $reason = $this->alert_text();
        if ($reason !== null) {
            $this->rc->output->show_message(rcube::Q($reason), 'warning');
        }

        return $args;
    }

    /**
     * The text of the IMAP server's [ALERT] on the failed login, or null.
     *
     * Read through the storage error API of Roundcube 1.5/1.6:
     * rcube_imap::get_error_code() < 0 after a refused login, and
     * rcube_imap::get_error_str() is the failed command's text:
     * - LOGIN: "LOGIN: <text after the response code>";
     * - AUTHENTICATE PLAIN with SASL-IR: "AUTHENTICATE PLAIN: <text>";
     * - AUTHENTICATE otherwise: "AUTHENTICATE <mech>: <the tagged line>".
     * The response code itself ("ALERT") is rcube_imap_generic::$resultcode
     * (public, reached through rcube_imap::$conn); get_response_code() maps
     * only the codes Roundcube acts on, not ALERT.
     */
    private function alert_text()
    {
        $storage = $this->rc->storage;
        if (!($storage instanceof rcube_imap) || !isset($storage->conn)) {
            return null;
        }
        if ($storage->get_error_code() >= 0
            || strtoupper((string) $storage->conn->resultcode) !== 'ALERT'
        ) {
            return null;
        }

        $text = (string) $storage->get_error_str();
        $text = preg_replace('/^(?:LOGIN|AUTHENTICATE [A-Z0-9_-]+): /i', '', $text);
        if (preg_match('/^\S+ (?:NO|BAD) \[ALERT\]\s*(.*)$/si', $text, $m)) {
            $text = $m[1];
        }

        $text = trim(preg_replace('/[\x00-\x1f\x7f]+/', ' ', $text));

        return $text === '' ? null : $text;
    }
}
