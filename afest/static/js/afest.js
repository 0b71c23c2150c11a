// afest front-end behaviour. No inline scripts anywhere: the CSP is default-src 'self'.
"use strict";
