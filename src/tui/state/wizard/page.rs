//! Where step 1 is: the way the app gets registered, the page shown, the question focused.
//! Below the steps that move between them (the guide, the setup script, the stored apps, the
//! form's way back).

/// How the app gets registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// The setup script in Azure Cloud Shell (recommended).
    Script,
    /// Step by step in the portal.
    Portal,
    /// An app registered already (stored): straight to the form ([`super::existing`]).
    Existing,
}

/// What step 1 shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// The two questions.
    Choose,
    /// The setup script and the setup-code field ([`super::script`]).
    Script,
    /// The portal's registration steps with the client ID and tenant fields.
    Portal,
    /// The stored apps to choose from ([`super::existing`]).
    Apps,
}

/// The question focused on the choice page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Question {
    Path,
    /// With a client secret or without (public client); the answer is `w.form.public_client`.
    Credential,
}
